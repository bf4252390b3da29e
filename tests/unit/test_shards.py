"""vlmbench.shards: every sample in exactly one shard, the same split on every run; GPUs shared out evenly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vlmbench.errors import ConfigError
from vlmbench.shards import Shard, devices_problem


@given(st.integers(min_value=0, max_value=300), st.integers(min_value=1, max_value=17))
def test_shards_split_the_samples_disjointly_and_completely_in_order(n, count):
    items = [f"s{i}" for i in range(n)]
    parts = [shard.take(items) for shard in Shard.all_of(count)]
    assert sorted(x for part in parts for x in part) == sorted(items)
    assert len({x for part in parts for x in part}) == n  # no sample in two shards
    assert all(part == sorted(part, key=items.index) for part in parts)  # each keeps the dataset's order
    assert max(map(len, parts)) - min(map(len, parts)) <= 1  # balanced
    assert parts == [shard.take(list(items)) for shard in Shard.all_of(count)]  # the same every time


def test_a_shard_reads_and_writes_as_index_of_count():
    assert Shard.parse(" 2/4 ") == Shard(2, 4) and str(Shard(2, 4)) == "2/4" and Shard(2, 4).name == "2-of-4"
    for text in ("0/2", "3/2", "2", "a/b", "1/0", ""):
        with pytest.raises(ConfigError, match="bad shard"):
            Shard.parse(text)


def test_exact_devices_are_shared_out_evenly_or_refused():
    devices = ("0", "1", "2", "3")
    assert [Shard(i, 2).devices(devices) for i in (1, 2)] == [("0", "1"), ("2", "3")]
    assert [Shard(i, 4).devices(devices) for i in range(1, 5)] == [("0",), ("1",), ("2",), ("3",)]
    assert devices_problem(devices, 2) is None and devices_problem((), 3) is None
    assert devices_problem(("0",), 1) is None
    assert "3 GPU(s) named for 2 shards" in devices_problem(("0", "1", "2"), 2)
