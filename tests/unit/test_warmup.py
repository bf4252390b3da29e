"""The scoring's warm-up: what it imports while the jobs run, and that the scoring waits for it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from vlmbench.warmup import ScoringWarmup


def test_a_warmup_imports_what_the_scoring_and_report_need_and_compiles_the_templates():
    code = textwrap.dedent("""
        import sys
        from vlmbench.warmup import MODULES, ScoringWarmup
        assert "pandas" not in sys.modules and "matplotlib" not in sys.modules
        ScoringWarmup().start().join()
        missing = [name for name in (*MODULES, "matplotlib.figure", "matplotlib.backends.backend_agg")
                   if name not in sys.modules]
        from vlmbench.report.render import TEMPLATES, _environment
        compiled = len(_environment().cache)
        print(missing, compiled == len(list(TEMPLATES.glob("*.j2"))) > 0)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[] True", result.stderr


def test_joining_a_warmup_never_started_returns_at_once():
    ScoringWarmup().join()  # a run whose jobs were all done starts none

