"""Crash safety of the docker executor, by a kill loop (tests/killloop.py says what is checked).

Hosts (SIGKILL, SIGTERM) and containers (killed through the engine) at random moments of runs of
three slow echo jobs in vlmbench/cpu; after every rerun each sample is answered exactly once, no
line is torn or corrupt, the answers equal an uninterrupted run's, and no container is left.
"""

from __future__ import annotations

import pytest

from tests.killloop import KillLoop, run_and_record

pytestmark = [pytest.mark.docker, pytest.mark.integration, pytest.mark.slow]

KILLS = 20


def test_kill_loop_docker_loses_duplicates_and_tears_nothing(tmp_path, docker_client, cpu_image,
                                                              no_leftover_containers):
    loop = KillLoop(tmp_path / "loop", executor="docker", seed=2, image=cpu_image, delay_s=0.3,
                    docker_client=docker_client)
    figures = run_and_record(loop, KILLS, tmp_path / "kill_loop.json")
    assert figures.total_kills >= KILLS
    assert figures.kills["container-kill"] >= 3, figures.kills
    assert (figures.lost, figures.duplicated, figures.corrupt, figures.wrong, figures.stuck) == (0, 0, 0, 0, 0), \
        figures.problems
