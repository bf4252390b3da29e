"""Crash safety of the slurm executor, by a short kill loop (tests/killloop.py says what is checked).

Hosts (SIGKILL, SIGTERM), workers on the node (SIGKILL) and their batch jobs (scancel) at random
moments of runs of three slow echo jobs on the one-node cluster; after every rerun each sample is
answered exactly once, nothing is torn, the answers equal an uninterrupted run's and no batch job
is left in the queue.
"""

from __future__ import annotations

import pytest

from tests.killloop import KillLoop, run_and_record

pytestmark = [pytest.mark.integration, pytest.mark.slurm, pytest.mark.slow]

KILLS = 8


def test_kill_loop_slurm_loses_duplicates_and_tears_nothing(tmp_path, no_leftover_slurm_jobs):
    loop = KillLoop(tmp_path / "loop", executor="slurm", seed=3)
    figures = run_and_record(loop, KILLS, tmp_path / "kill_loop.json")
    assert figures.total_kills >= KILLS
    assert (figures.lost, figures.duplicated, figures.corrupt, figures.wrong, figures.stuck) == (0, 0, 0, 0, 0), \
        figures.problems
