"""What a container costs per job: the docker executor next to the local one.

Each executor runs the same one-sample job several times through its real
``run_job`` (the runner's own code path), with the echo model so that no
model time hides the executor's. Two figures per job:

* start → first prediction: from asking the executor to run the job to the
  first line of predictions.jsonl on disk (container create + start, or
  subprocess start, then Python and vlmbench imports, dataset, model);
* teardown: from the worker's last status write to ``run_job`` returning
  (container exit seen, logs drained, container removed; or process reaped).

    python benchmarks/docker_overhead.py [--repeats 5] [--model echo|tesseract]

Needs a Docker Engine with vlmbench/cpu built (`vlmbench build-images cpu`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from vlmbench.docker.names import image_tag
from vlmbench.executors import get_executor
from vlmbench.progress import SilentProgress
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import JobStatus
from vlmbench.runner import RunOptions, validate

MODELS = {  # catalog row after the image column: package, module, class, weights, params
    "echo": ",,echo,,",
    "tesseract": 'vlmbench,models.tesseract,TesseractOCR,,"{""lang"": ""eng"", ""psm"": ""block""}"',
}


def make_inputs(work: Path, model: str) -> tuple[Path, Path]:
    from PIL import Image, ImageDraw

    (work / "data" / "images").mkdir(parents=True)
    image = Image.new("L", (400, 80), 255)
    ImageDraw.Draw(image).text((10, 30), "overhead", fill=0)
    image.save(work / "data" / "images" / "0.png")
    (work / "data" / "annotation.csv").write_text(
        "data_index;split;image_path;question;answer;doc_class;question_type\n"
        "s0;test;images/0.png;What is written?;overhead;doc;full_text\n")
    catalog = work / "catalog.csv"
    catalog.write_text("framework,model_family,model_name,docker_image,python_package,module,class_name,weights,params\n"
                       f"bench,Bench,bench-model,{image_tag('cpu')},{MODELS[model]}\n")
    config = work / "run.csv"
    config.write_text(f"model_name,dataset,metrics\nbench-model,{work / 'data'},exact_match\n")
    return config, catalog


def time_one(executor_name: str, config: Path, catalog: Path, job_dir: Path) -> tuple[float, float]:
    plan = validate(config, RunOptions(executor=executor_name, catalogs=[catalog], out=job_dir.parent))
    [job] = plan.jobs
    executor = get_executor(executor_name)
    job_dir.mkdir(parents=True)
    JobDir(job_dir).create(job.spec)
    JobDir(job_dir).write_status(JobStatus(state="pending", n_samples=job.n_samples))
    start = time.time()
    status = executor.run_job(job, job_dir, SilentProgress())
    end = time.time()
    assert status.state == "done", status
    first_prediction = (job_dir / "predictions.jsonl").stat().st_mtime
    last_status = (job_dir / "status.json").stat().st_mtime
    return first_prediction - start, end - last_status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", choices=sorted(MODELS), default="echo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vlmbench-overhead-") as tmp:
        config, catalog = make_inputs(Path(tmp), args.model)
        get_executor("docker").check(validate(config, RunOptions(executor="docker", catalogs=[catalog])).jobs)
        rows = []
        for name in ("local", "docker"):
            time_one(name, config, catalog, Path(tmp) / name / "warm-up")  # page cache, image layers
            runs = [time_one(name, config, catalog, Path(tmp) / name / str(i)) for i in range(args.repeats)]
            rows.append((name, [r[0] for r in runs], [r[1] for r in runs]))
    print(f"per-job overhead, model {args.model}, median of {args.repeats} (min–max), seconds")
    print(f"{'executor':<10}{'start → first prediction':>30}{'teardown':>24}")
    for name, firsts, teardowns in rows:
        print(f"{name:<10}{_cell(firsts):>30}{_cell(teardowns):>24}")


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


if __name__ == "__main__":
    main()
