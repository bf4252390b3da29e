"""What the worker reports of a model's usage: tokens per second, peak GPU memory."""

import subprocess
import sys

from vlmbench.rundir.records import JobStatus
from vlmbench.worker import Worker, peak_gpu_memory_mb


class CountingModel:
    tokens_generated = 120  # as the transformers adapter counts them


class SilentModel:
    pass


def worker_with(generate_s: float) -> Worker:
    worker = Worker.__new__(Worker)  # the usage record needs no job file
    worker.status = JobStatus(state="running")
    worker.generate_s = generate_s
    return worker


def test_tokens_per_second_over_the_time_in_generate():
    worker = worker_with(generate_s=4.0)
    worker._record_usage(CountingModel())
    assert (worker.status.output_tokens, worker.status.tokens_per_s) == (120, 30.0)
    silent = worker_with(generate_s=4.0)
    silent._record_usage(SilentModel())  # a model that does not count: nothing invented
    assert (silent.status.output_tokens, silent.status.tokens_per_s) == (None, None)


def test_no_gpu_memory_without_cuda_in_use():
    # torch not imported by the model: the worker does not import it to ask.
    code = "import sys, vlmbench.worker as w; print(w.peak_gpu_memory_mb(), 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "False"]
    import torch  # the CPU build here: CUDA never initialised, so None rather than 0

    assert not torch.cuda.is_initialized()
    assert peak_gpu_memory_mb() is None
