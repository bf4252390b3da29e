"""Crash safety of the local executor, by a kill loop (tests/killloop.py says what is checked).

Hosts (SIGKILL, SIGTERM) and workers (SIGKILL, SIGTERM, SIGKILL leaving a torn last line) are
killed at random moments of runs of three slow echo jobs; after every rerun each sample is answered
exactly once, no line is torn or corrupt, and the answers equal an uninterrupted run's. `pytest -s` prints the figures; they
are also written to kill_loop.json in the test's folder.
"""

from __future__ import annotations

import sys

import pytest

from tests.killloop import LOCAL_KINDS, KillLoop, run_and_record

pytestmark = [pytest.mark.integration, pytest.mark.workers, pytest.mark.slow]

KILLS = 30


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds workers in /proc")
def test_kill_loop_local_loses_duplicates_and_tears_nothing(tmp_path):
    loop = KillLoop(tmp_path / "loop", executor="local", seed=1)
    figures = run_and_record(loop, KILLS, tmp_path / "kill_loop.json")
    assert figures.total_kills >= KILLS
    assert set(figures.kills) == set(LOCAL_KINDS), figures.kills
    assert figures.samples_checked >= figures.cycles * 24
    assert (figures.lost, figures.duplicated, figures.corrupt, figures.wrong, figures.stuck) == (0, 0, 0, 0, 0), \
        figures.problems
