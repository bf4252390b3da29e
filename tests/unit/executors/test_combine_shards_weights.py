"""A sharded job keeps the weights its shards' workers loaded (they all load the same model)."""

from __future__ import annotations

from vlmbench.executors.base import combine_shards
from vlmbench.rundir.records import JobStatus, WeightsRevision
from vlmbench.shards import Shard

WEIGHTS = WeightsRevision(path="/models/tiny", content_hash="a" * 64, hash_method="vlmbench-folder-v1",
                          n_files=3, total_bytes=100)


def test_the_weights_of_the_first_shard_that_loaded_the_model_are_the_job_s():
    # The first shard had nothing left to answer, so it loaded no model and reported no weights.
    ends = [JobStatus(state="done"), JobStatus(state="done", weights=WEIGHTS), JobStatus(state="done")]
    assert combine_shards(ends, Shard.all_of(3)).weights == WEIGHTS
    assert combine_shards([JobStatus(state="done")] * 2, Shard.all_of(2)).weights is None
