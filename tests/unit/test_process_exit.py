"""A vlmbench command ends without the interpreter's teardown, its exit handlers run and its output flushed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROGRAM = """
import atexit, sys, threading, time
from vlmbench.cli.app import main

class TornDown:
    def __del__(self):
        print("torn down", flush=True)

kept = TornDown()  # freed only by the interpreter's teardown
atexit.register(print, "exit handlers ran")
print("buffered, no newline", end="")  # flushed on the way out, or lost
if sys.argv[1] == "busy":  # a non-daemon thread still working: the orderly exit waits for it
    threading.Thread(target=lambda: (time.sleep(0.3), print("thread done", flush=True))).start()
sys.argv = ["vlmbench", *sys.argv[2:]]
main()
"""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(PROGRAM), *args], capture_output=True,
                          text=True, timeout=60, check=False)


def test_a_command_ends_at_once_with_its_code_handlers_and_output():
    done = run("idle", "--version")
    assert done.returncode == 0
    assert done.stdout.startswith("buffered, no newlinevlmbench ")
    assert "exit handlers ran" in done.stdout and "torn down" not in done.stdout


def test_a_user_error_keeps_its_exit_code_and_message(tmp_path):
    done = run("idle", "validate", str(tmp_path / "missing.csv"))
    assert done.returncode == 2
    assert "missing.csv" in done.stderr and "Traceback" not in done.stderr
    assert "exit handlers ran" in done.stdout and "torn down" not in done.stdout


def test_the_orderly_exit_is_kept_while_another_thread_works():
    done = run("busy", "--version")
    assert done.returncode == 0
    assert "thread done" in done.stdout and "exit handlers ran" in done.stdout
