"""The environment a benchmark runs its commands in: this one, as a user's shell would have it.

Python keeps its bytecode cache there. A shell that sets PYTHONDONTWRITEBYTECODE (this machine's does)
makes every process compile the vlmbench modules it imports again, a cost no installed vlmbench pays.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vlmbench"


def user_environment(**extra: str) -> dict[str, str]:
    """os.environ without PYTHONDONTWRITEBYTECODE, with ``extra`` set, and vlmbench's bytecode made."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(PACKAGE)], check=True, env=env)
    return env
