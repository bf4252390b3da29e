"""What the runner costs beside the model: `vlmbench run`, whole command, against a bare script.

Both sides are whole processes answering the same samples with the same
model class, parameters and batch size. The bare script is the least a
user could write: read the annotation file with the csv module, load the
model once, open each image, call `generate` batch by batch, write the
answers to a file. The runner side is the whole `vlmbench run` command:
planning, a subprocess worker, predictions and statuses, scoring and the
report. The two run in alternating pairs (bare first in even pairs, run
first in odd ones) so a slow stretch of a shared machine hits both; what
is printed is the median of each side, its spread (min–max), and the
median and spread of the per-pair ratios run/bare, of wall time and of CPU
time (user + system of the processes, which a busy machine disturbs
less). The runner's own status.json says how long its model took to load
and how fast it predicted, which is compared with the bare script's.

Scenarios (the issue's figures): `easyvqa` is easyvqa-tiny on the first
2,000 samples of the bundled easy-VQA test split at batch 64 (ratio at most
1.05); `tesseract` is tesseract-rus-eng on synthetic full-text pages
(Russian and English documents) at batch 8 (at most 1.02 on 1,000 pages).

    python benchmarks/runner_overhead.py [--scenario easyvqa|tesseract|both] [--pairs 3] [--samples N]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = {
    # name: (catalog model, batch size, samples by default)
    "easyvqa": ("easyvqa-tiny", 64, 2000),
    "tesseract": ("tesseract-rus-eng", 8, 1000),
}


def make_easyvqa_dataset(target: Path, samples: int) -> Path:
    """The first `samples` rows of the bundled easy-VQA test split, with only the images they show."""
    from vlmbench.datasets import make_bundled

    source = make_bundled("easy-vqa")
    with (source / "annotation.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header, body = rows[0], rows[1:samples + 1]
    column = header.index("image_path")
    for row in body:
        copy = target / row[column]
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / row[column], copy)
    with (target / "annotation.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\n").writerows([header, *body])
    return target


def make_pages_dataset(target: Path, samples: int) -> Path:
    """`samples` full-text questions cycling over the bundled Russian and English documents."""
    from vlmbench.datasets import load_dataset, make_bundled

    lines = ["data_index;split;image_path;question;answer;doc_class;question_type"]
    (target / "images").mkdir(parents=True)
    sources = []
    for name in ("synthetic-docs-ru", "synthetic-docs-en"):
        dataset = load_dataset(make_bundled(name))
        for sample in dataset.samples:
            if sample.question_type == "full_text":
                copy = target / "images" / f"{name}-{Path(sample.images[0]).name}"
                shutil.copyfile(dataset.root / sample.images[0], copy)
                sources.append((copy.relative_to(target).as_posix(), sample))
    for index in range(samples):
        image, sample = sources[index % len(sources)]
        answer = sample.answer.replace("\n", " ").replace(";", ",")
        lines.append(f"b{index};test;{image};{sample.question};{answer};{sample.doc_class};full_text")
    (target / "annotation.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def bare_script(dataset_dir: Path, class_path: str, weights: str | None, params: dict, batch_size: int,
                answers_file: Path) -> None:
    """The bare side, run in a process of its own (`--bare`): prints its load and predict seconds as JSON."""
    import pkgutil

    from PIL import Image

    from vlmbench.models.base import Request

    with (dataset_dir / "annotation.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    start = time.perf_counter()
    model = pkgutil.resolve_name(class_path)(weights=weights, **params)
    loaded = time.perf_counter()
    with answers_file.open("w", encoding="utf-8") as out:
        for first in range(0, len(rows), batch_size):
            batch = rows[first:first + batch_size]
            requests = [Request(prompt=row["question"],
                                images=[Image.open(dataset_dir / row["image_path"]).convert("RGB")])
                        for row in batch]
            for row, answer in zip(batch, model.generate(requests), strict=True):
                out.write(json.dumps({"id": row["data_index"], "answer": answer}) + "\n")
    predicted = time.perf_counter()
    model.close()
    print(json.dumps({"load_s": loaded - start, "predict_s": predicted - loaded, "n": len(rows)}))


@dataclass
class Measure:
    wall_s: float
    cpu_s: float
    load_s: float | None
    predict_s: float | None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, env=env)
    return time.perf_counter() - start, _children_cpu() - cpu, done.stdout


def run_bare(dataset_dir: Path, model_name: str, batch_size: int, work: Path, env: dict[str, str]) -> Measure:
    from vlmbench.catalog import load_catalog
    from vlmbench.models.packaged import resolve_packaged

    row = load_catalog().get(model_name)
    command = [sys.executable, "-P", str(Path(__file__).resolve()), "--bare", str(dataset_dir), row.class_path,
               json.dumps({"weights": resolve_packaged(row.weights), "params": row.params}), str(batch_size),
               str(work / "bare-answers.jsonl")]
    wall, cpu, out = _timed(command, env)
    figures = json.loads(out.strip().splitlines()[-1])
    return Measure(wall, cpu, figures["load_s"], figures["predict_s"])


def run_vlmbench(dataset_dir: Path, model_name: str, batch_size: int, work: Path, env: dict[str, str],
                 index: int) -> Measure:
    config = work / "bench.csv"
    config.write_text(f"model_name,dataset,batch_size\n{model_name},{dataset_dir},{batch_size}\n")
    out = work / f"run-{index}"  # a fresh folder each time: nothing of an earlier run is reused
    wall, cpu, _ = _timed([sys.executable, "-P", "-m", "vlmbench", "run", str(config), "--out", str(out),
                           "--no-resume"], env)
    status = json.loads(next((out / "jobs").glob("*/status.json")).read_text())
    shutil.rmtree(out)
    return Measure(wall, cpu, status.get("model_load_s"), status.get("predict_s"))


def _spread(values: list[float], unit: str = "", digits: int = 1) -> str:
    return (f"median {statistics.median(values):.{digits}f}{unit} "
            f"(min {min(values):.{digits}f}, max {max(values):.{digits}f}, n={len(values)})")


def measure_scenario(name: str, pairs: int, samples: int | None, work: Path) -> float:
    model_name, batch_size, default_samples = SCENARIOS[name]
    samples = samples or default_samples
    make = make_easyvqa_dataset if name == "easyvqa" else make_pages_dataset
    dataset_dir = make(work / f"data-{name}", samples)
    from userenv import user_environment  # not at the top: the bare side runs this file with -P

    env = user_environment(OMP_THREAD_LIMIT="1")
    print(f"== {name}: {model_name} on {samples} samples at batch {batch_size}, {pairs} alternating pairs",
          flush=True)
    bare: list[Measure] = []
    runner: list[Measure] = []
    for index in range(pairs):
        # Alternate which side goes first, so a slow stretch of the machine hits both.
        for side in ("bare", "run")[:: 1 if index % 2 == 0 else -1]:
            if side == "bare":
                bare.append(run_bare(dataset_dir, model_name, batch_size, work, env))
            else:
                runner.append(run_vlmbench(dataset_dir, model_name, batch_size, work, env, index))
        b, r = bare[-1], runner[-1]
        print(f"  pair {index + 1}: bare {b.wall_s:6.1f} s, run {r.wall_s:6.1f} s, ratio {r.wall_s / b.wall_s:.3f}"
              f" | load {b.load_s:.1f}/{r.load_s or 0:.1f} s, predict {b.predict_s:.1f}/{r.predict_s or 0:.1f} s",
              flush=True)
    ratios = [r.wall_s / b.wall_s for b, r in zip(bare, runner, strict=True)]
    cpu_ratios = [r.cpu_s / b.cpu_s for b, r in zip(bare, runner, strict=True)]
    predict_ratios = [r.predict_s / b.predict_s for b, r in zip(bare, runner, strict=True) if r.predict_s]
    print(f"bare script wall:    {_spread([m.wall_s for m in bare], ' s')}")
    print(f"vlmbench run wall:   {_spread([m.wall_s for m in runner], ' s')}")
    print(f"bare script CPU:     {_spread([m.cpu_s for m in bare], ' s')}")
    print(f"vlmbench run CPU:    {_spread([m.cpu_s for m in runner], ' s')}")
    print(f"ratio run/bare wall: {_spread(ratios, digits=3)}")
    print(f"ratio run/bare CPU:  {_spread(cpu_ratios, digits=3)}")
    if predict_ratios:  # the prediction phase alone, as status.json times it against the bare loop's
        print(f"ratio predict phase: {_spread(predict_ratios, digits=3)}")
    print(f"extra wall per run:  {_spread([r.wall_s - b.wall_s for b, r in zip(bare, runner, strict=True)], ' s', 2)}")
    return statistics.median(ratios)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        dataset_dir, class_path, model, batch_size, answers = sys.argv[2:7]
        loaded = json.loads(model)
        bare_script(Path(dataset_dir), class_path, loaded["weights"], loaded["params"], int(batch_size),
                    Path(answers))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "both"], default="both")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=None, help="instead of the scenario's own count")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vlmbench-bench-") as tmp:
        for name in SCENARIOS if args.scenario == "both" else [args.scenario]:
            measure_scenario(name, args.pairs, args.samples, Path(tmp))


if __name__ == "__main__":
    main()
