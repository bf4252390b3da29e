"""A sharded job's one status, from its shards' final ones (executors.base.combine_shards)."""

from __future__ import annotations

from vlmbench.environment import environment_versions
from vlmbench.executors.base import combine_shards
from vlmbench.rundir.records import JobStatus
from vlmbench.shards import Shard

SHARDS = Shard.all_of(3)


def end(state: str = "done", **fields) -> JobStatus:
    base = {"n_samples": 4, "n_done": 4, "started_at": "2026-12-03T10:00:00.000+00:00",
            "finished_at": "2026-12-03T10:01:00.000+00:00", "wall_s": 60.0, "samples_per_s": 0.1,
            "model_load_s": 2.0, "exit_code": 0 if state == "done" else 1}
    return JobStatus(state=state, **{**base, **fields})


def test_all_shards_done_make_a_done_job_with_their_sums():
    ends = [end(n_errors=1), end(wall_s=90.0, finished_at="2026-12-03T10:01:30.000+00:00", model_load_s=3.0),
            end(started_at="2026-12-03T09:59:59.000+00:00", references_fingerprint="r",
                environment=environment_versions())]
    status = combine_shards(ends, SHARDS)
    assert (status.state, status.exit_code, status.failure_class, status.error) == ("done", 0, None, None)
    assert (status.n_samples, status.n_done, status.n_errors) == (12, 12, 1)
    assert status.started_at == "2026-12-03T09:59:59.000+00:00"
    assert status.finished_at == "2026-12-03T10:01:30.000+00:00"
    assert (status.wall_s, status.model_load_s, status.samples_per_s) == (90.0, 3.0, 0.3)  # side by side
    assert status.references_fingerprint == "r" and status.environment == environment_versions()


def test_a_failed_shard_fails_the_job_before_an_interrupted_one_and_says_which():
    ends = [end("interrupted", failure_class="interrupted", error="stopped by the user"),
            end("failed", failure_class="oom", error="out of memory (killed)", oom=True), end()]
    status = combine_shards(ends, SHARDS)
    assert (status.state, status.failure_class, status.oom) == ("failed", "oom", True)
    assert status.error == "shard 2/3: out of memory (killed)"
    ends[1] = end()
    status = combine_shards(ends, SHARDS)
    assert (status.state, status.failure_class, status.error) == ("interrupted", "interrupted",
                                                                  "shard 1/3: stopped by the user")
