"""The worker's batches of decoded images: ahead in a thread, or in the caller's thread when asked for."""

from __future__ import annotations

import threading

import pytest
from PIL import Image

from vlmbench import worker
from vlmbench.datasets.schema import Sample


@pytest.fixture
def folder(tmp_path):
    for index in range(5):
        Image.new("RGB", (4, 4), (index * 40, 0, 0)).save(tmp_path / f"{index}.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    return tmp_path


def samples() -> list[Sample]:
    return [Sample(id=f"s{i}", question="q", answer="a", images=(f"{i}.png",)) for i in range(5)] + [
        Sample(id="bad", question="q", answer="a", images=("bad.png",))]


def decoding_threads(monkeypatch) -> list[str]:
    threads: list[str] = []
    load = worker.load_image

    def recording(root, path):
        threads.append(threading.current_thread().name)
        return load(root, path)

    monkeypatch.setattr(worker, "load_image", recording)
    return threads


@pytest.mark.parametrize("ahead", [True, False])
def test_both_ways_give_the_same_batches_and_the_same_decode_errors(folder, ahead):
    batches = list(worker._batches(folder, samples(), 4, ahead))
    assert [[sample.id for sample, _, _ in batch] for batch in batches] == [["s0", "s1", "s2", "s3"],
                                                                             ["s4", "bad"]]
    red = [images[0].getpixel((0, 0))[0] for batch in batches for _, images, error in batch if not error]
    assert red == [0, 40, 80, 120, 160]
    (_, images, error), = [item for item in batches[1] if item[0].id == "bad"]
    assert images is None and error.startswith("image decode failed: UnidentifiedImageError")


def test_decoding_ahead_happens_in_a_thread_of_its_own(folder, monkeypatch):
    threads = decoding_threads(monkeypatch)
    list(worker._batches(folder, samples(), 4, ahead=True))
    assert set(threads) == {"image-decoder"}


def test_a_model_computing_here_gets_each_batch_decoded_when_it_asks_for_it(folder, monkeypatch):
    threads = decoding_threads(monkeypatch)
    batches = worker._batches(folder, samples(), 4, ahead=False)
    next(batches)
    assert len(threads) == 4  # the first batch only: nothing decoded ahead
    list(batches)
    assert set(threads) == {threading.current_thread().name}
