"""Crash safety by a kill loop: kill `vlmbench run`, its workers or its containers at random moments.

The driver runs a small run CSV of slow echo models once uninterrupted (the reference), then
loops over *cycles*: a fresh output folder; two to four runs each killed at a random moment
(seeded) by one of the kill kinds; after each killed run the host must end on its own (a killed
worker or container is a failed job, not a hang) and the files it left are checked; then reruns
until one exits 0, and the finished folder is checked against the reference.

What is checked, per job and sample, on the raw predictions.jsonl (not through read_predictions):

* corrupt: a line ending in a newline that is not one JSON Prediction. A last line without a newline
  (the writer was killed mid-line) is *torn*, tolerated between runs only: read_predictions drops it
  and the next worker rewrites the file without it before appending. A torn line anywhere else, or
  one left in a finished folder, is corrupt.
* duplicated: between runs, a sample id with more than one *answered* line (answer set, no error);
  a failed line followed by an answered one is a retry, allowed between runs (the worker drops
  failures when it resumes). In a finished folder, a sample id with more than one line of any kind:
  there each sample has exactly one line, its answer.
* lost: a sample of the reference with no answered line in the finished folder.
* wrong: an answered line whose answer differs from the reference's.
* stuck: a finished folder whose job status is not "done", or a worker process or container of
  the folder still alive after its runs ended.

The figures (kills by kind, samples checked, lost, duplicated, corrupt, ...) are one line per
executor (:meth:`Figures.line`) and a JSON object (:meth:`Figures.as_dict`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from PIL import Image

from vlmbench.rundir import JobDir

REPO = Path(__file__).resolve().parents[1]
HOST_EXIT_S = 90.0  # a host whose worker or container was killed must end on its own within this
RERUN_TRIES = 4

# worker-sigkill-torn: a worker killed mid-write, made certain: after the SIGKILL, half of a line is
# appended to its predictions.jsonl (a random kill seldom lands inside the write() of a batch).
LOCAL_KINDS = ("host-sigkill", "host-sigterm", "worker-sigkill", "worker-sigterm", "worker-sigkill-torn")
DOCKER_KINDS = ("host-sigkill", "host-sigterm", "container-kill")
SLURM_KINDS = ("host-sigkill", "host-sigterm", "worker-sigkill", "worker-sigkill-torn", "slurm-cancel")
KINDS = {"local": LOCAL_KINDS, "docker": DOCKER_KINDS, "slurm": SLURM_KINDS}


@dataclass
class Figures:
    executor: str
    kills: Counter = field(default_factory=Counter)
    missed: int = 0  # runs that ended before their kill landed
    cycles: int = 0
    runs: int = 0
    samples_checked: int = 0
    lost: int = 0
    duplicated: int = 0
    corrupt: int = 0
    wrong: int = 0
    stuck: int = 0
    torn_tails: int = 0  # torn last lines seen between runs (tolerated, dropped by the next worker)
    retried_lines: int = 0  # failed lines later answered, seen between runs (tolerated)
    host_exit_codes: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def total_kills(self) -> int:
        return sum(self.kills.values())

    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.corrupt or self.wrong or self.stuck)

    def as_dict(self) -> dict:
        record = asdict(self)
        record["kills"] = dict(sorted(self.kills.items()))
        record["host_exit_codes"] = {str(k): v for k, v in sorted(self.host_exit_codes.items())}
        record["total_kills"] = self.total_kills
        return record

    def line(self) -> str:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.kills.items()))
        return (f"{self.executor}: {self.total_kills} kills ({kinds}; {self.missed} missed) in {self.cycles} "
                f"cycles, {self.runs} runs; {self.samples_checked} samples checked: {self.lost} lost, "
                f"{self.duplicated} duplicated, {self.corrupt} corrupt, {self.wrong} wrong, {self.stuck} stuck; "
                f"{self.torn_tails} torn tails and {self.retried_lines} retried lines tolerated between runs; "
                f"{self.seconds:.0f} s")


def make_dataset(root: Path, n_samples: int, pad: int = 0) -> Path:
    """A VLMHyperBench folder of tiny images, each sample's question its own (so are echo's answers).

    `pad` characters added to each question make each prediction line that much longer, so a batch is
    written in several pieces and a kill can land between them.
    """
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = ["data_index;split;image_path;question;answer;doc_class;question_type"]
    for index in range(n_samples):
        Image.new("L", (8 + index, 8), 255).save(root / "images" / f"{index}.png")
        lines.append(f"s{index};test;images/{index}.png;What is item {index}?{' x' * (pad // 2)};item {index};"
                     f"{'even' if index % 2 == 0 else 'odd'};full_text")
    (root / "annotation.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def write_run(root: Path, *, n_jobs: int, n_samples: int, delay_s: float, image: str = "",
              pad: int = 0) -> tuple[Path, Path]:
    """A run CSV of n_jobs slow echo models (batch sizes 1, 2, 3, ... so kills tear batches of each size)."""
    dataset = make_dataset(root / "items", n_samples, pad)
    names = [f"echo-{index}" for index in range(n_jobs)]
    catalog = root / "catalog.csv"
    catalog.write_text(
        "framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
        + "".join(f'echo,Echo,{name},{image},,,echo,"{{""delay_s"": {delay_s}}}"\n' for name in names))
    config = root / "run.csv"
    config.write_text("model_name,dataset,batch_size,metrics\n"
                      + "".join(f"{name},{dataset},{1 + index % 3},exact_match\n" for index, name in enumerate(names)))
    return config, catalog


def _job_dirs(out: Path) -> dict[str, Path]:
    try:
        record = json.loads((out / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return {job["config_row"]["model_name"]: out / "jobs" / job["job_id"] for job in record["jobs"]}


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def local_workers(out: Path) -> list[int]:
    """Live worker processes running a job under `out` (their command line names its job.json)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parts = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in parts and any(str(out).encode() in part for part in parts) and _alive(int(proc.name)):
            found.append(int(proc.name))
    return found


def _job_file(pid: int) -> Path | None:
    """The job.json a worker process runs, from its command line."""
    try:
        return next(Path(part.decode()) for part in (Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"))
                    if part.endswith(b"job.json"))
    except (OSError, StopIteration):
        return None


def _tear(pid: int, job: Path) -> None:
    """Once the killed worker is gone, append the first half of a line to its predictions.jsonl."""
    deadline = time.monotonic() + 5.0
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    path = job.parent / "predictions.jsonl"
    lines = path.read_bytes().splitlines() if path.exists() else []
    line = lines[-1] if lines else b'{"id": "s0", "prompt": "What is item 0?", "answer": "1 What is item 0?"}'
    with path.open("ab") as handle:
        handle.write(line[: len(line) // 2])


def _predictions_count(out: Path) -> int:
    total = 0
    for path in out.glob("jobs/*/predictions.jsonl"):
        try:
            total += path.read_bytes().count(b"\n")
        except OSError:
            pass
    return total


@dataclass
class FileCheck:
    corrupt: int = 0
    torn: int = 0
    duplicated: int = 0  # ids with more than one answered line
    retried: int = 0
    answers: dict[str, list[str]] = field(default_factory=dict)  # id -> answers of its answered lines
    lines: Counter = field(default_factory=Counter)  # id -> its lines, answered or not
    problems: list[str] = field(default_factory=list)


def check_predictions(path: Path) -> FileCheck:
    """The raw file, line by line: see the module docstring for what each count means."""
    from vlmbench.rundir.records import Prediction

    check = FileCheck()
    if not path.exists():
        return check
    lines = path.read_bytes().split(b"\n")
    if lines.pop():  # what follows the last newline: b"" unless the last line is torn
        check.torn += 1
    failed: set[str] = set()
    for number, line in enumerate(lines, 1):
        try:
            prediction = Prediction.model_validate_json(line)
        except ValueError:
            check.corrupt += 1
            check.problems.append(f"{path}:{number}: not a prediction: {line[:80]!r}")
            continue
        check.lines[prediction.id] += 1
        if prediction.answer is None or prediction.error is not None:
            failed.add(prediction.id)
            continue
        if prediction.id in failed:
            check.retried += 1
        check.answers.setdefault(prediction.id, []).append(prediction.answer)
    for sample, answers in check.answers.items():
        if len(answers) > 1:
            check.duplicated += 1
            check.problems.append(f"{path}: {sample} answered {len(answers)} times")
    return check


class KillLoop:
    """Kill runs of one run CSV at random moments and check what every rerun leaves (see the module)."""

    def __init__(self, workdir: Path, *, executor: str = "local", seed: int = 0, n_jobs: int = 3,
                 n_samples: int = 8, delay_s: float = 0.15, parallel: int = 2, image: str = "", pad: int = 0,
                 kinds: Sequence[str] | None = None, extra_args: Sequence[str] = (),
                 docker_client: object | None = None, log: Callable[[str], None] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.executor = executor
        self.rng = random.Random(seed)
        self.kinds = tuple(kinds or KINDS[executor])
        self.docker = docker_client
        self.log = log or (lambda message: None)
        self.config, self.catalog = write_run(self.workdir, n_jobs=n_jobs, n_samples=n_samples,
                                              delay_s=delay_s, image=image, pad=pad)
        self.args = ["--executor", executor, "--catalog", str(self.catalog), "--jobs", str(parallel),
                     *extra_args]
        self.figures = Figures(executor=executor)
        self.reference: dict[str, dict[str, str]] = {}
        self.reference_s = 0.0

    # -- processes -------------------------------------------------------------------------------
    def _command(self, out: Path) -> list[str]:
        return [sys.executable, "-m", "vlmbench", "run", str(self.config), "--out", str(out), *self.args]

    def _start(self, out: Path, log_name: str) -> subprocess.Popen:
        self.figures.runs += 1
        log = (out.parent / log_name).open("ab")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        try:
            return subprocess.Popen(self._command(out), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, env=env, cwd=self.workdir)
        finally:
            log.close()

    def _containers(self, out: Path) -> list:
        if self.docker is None:
            return []
        ids = [job_dir.name for job_dir in _job_dirs(out).values()]
        found = []
        for job_id in ids:
            found += self.docker.containers.list(filters={"label": f"vlmbench.job_id={job_id}",
                                                          "status": "running"})
        return found

    def _leftovers(self, out: Path) -> list[str]:
        left = [f"worker pid {pid}" for pid in local_workers(out)]
        if self.executor == "slurm":
            names = {f"vlmbench-{job_dir.name}" for job_dir in _job_dirs(out).values()}
            queue = subprocess.run(["squeue", "-h", "-o", "%j"], capture_output=True, text=True,
                                   check=False).stdout.split()
            left += [f"slurm job {name}" for name in queue if name in names]
        if self.docker is not None:
            ids = [job_dir.name for job_dir in _job_dirs(out).values()]
            for job_id in ids:
                left += [f"container {c.name}" for c in
                         self.docker.containers.list(all=True, filters={"label": f"vlmbench.job_id={job_id}"})]
        return left

    # -- the loop --------------------------------------------------------------------------------
    def run_reference(self) -> None:
        out = self.workdir / "reference" / "out"
        out.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        host = self._start(out, "reference.log")
        code = host.wait(timeout=600)
        self.reference_s = time.monotonic() - start
        if code != 0:
            raise RuntimeError(f"the reference run failed ({code}): {(out.parent / 'reference.log').read_text()}")
        for name, job_dir in _job_dirs(out).items():
            check = check_predictions(job_dir / "predictions.jsonl")
            if check.corrupt or check.torn or check.duplicated:
                raise RuntimeError(f"the reference run's {name} is not clean: {check.problems}")
            self.reference[name] = {sample: answers[0] for sample, answers in check.answers.items()}
        self.log(f"reference: {sum(map(len, self.reference.values()))} samples in {self.reference_s:.1f} s")

    def _kill_once(self, out: Path, cycle: int, attempt: int) -> bool:
        """Start a run, kill something at a random moment, wait for the host to end, check the files."""
        host = self._start(out, f"cycle{cycle}.log")
        kind = self.rng.choice(self.kinds)
        # A random moment within the reference run's time; a kill of a worker or container waits for one.
        moment = time.monotonic() + self.rng.uniform(0.1, max(0.5, self.reference_s * 0.6))
        bound = time.monotonic() + max(5.0, self.reference_s * 2)
        killed = None
        while host.poll() is None and time.monotonic() < bound:
            if time.monotonic() >= moment:
                killed = self._kill(kind, host, out)
                if killed:
                    break
            time.sleep(0.02)
        if killed is None and host.poll() is None:  # no worker or container showed up in time: the host
            killed = self._kill("host-sigkill", host, out)
        if killed is None:
            self.figures.missed += 1
        else:
            self.figures.kills[killed] += 1
        try:
            code = host.wait(timeout=HOST_EXIT_S)
        except subprocess.TimeoutExpired:
            self.figures.stuck += 1
            self.figures.problems.append(f"cycle {cycle}.{attempt}: the host did not end {HOST_EXIT_S:g} s after "
                                         f"{killed}")
            host.kill()
            code = host.wait()
        self.figures.host_exit_codes[code] += 1
        self.log(f"cycle {cycle}.{attempt}: {killed or 'missed'} -> host exit {code}")
        self._check_between(out, f"cycle {cycle}.{attempt} after {killed}")
        return killed is not None

    def _kill(self, kind: str, host: subprocess.Popen, out: Path) -> str | None:
        if kind == "host-sigkill":
            host.send_signal(signal.SIGKILL)
        elif kind == "host-sigterm":
            host.send_signal(signal.SIGTERM)
        elif kind.startswith("worker-"):
            workers = local_workers(out)
            if not workers:
                return None
            pid = self.rng.choice(workers)
            job = _job_file(pid)  # before the kill: the host reaps its worker at once
            os.kill(pid, signal.SIGTERM if kind == "worker-sigterm" else signal.SIGKILL)
            if kind == "worker-sigkill-torn" and job is not None:
                _tear(pid, job)
        elif kind == "container-kill":
            containers = self._containers(out)
            if not containers:
                return None
            try:
                self.rng.choice(containers).kill()
            except Exception:  # noqa: BLE001 - it ended between listing and killing: no kill
                return None
        elif kind == "slurm-cancel":
            names = {f"vlmbench-{job_dir.name}" for job_dir in _job_dirs(out).values()}
            queue = subprocess.run(["squeue", "-h", "-t", "RUNNING", "-o", "%i %j"], capture_output=True,
                                   text=True, check=False).stdout.split("\n")
            ids = [line.split()[0] for line in queue if line.strip() and line.split()[1] in names]
            if not ids:
                return None
            subprocess.run(["scancel", self.rng.choice(ids)], check=False, capture_output=True)
        else:
            raise ValueError(f"unknown kill kind {kind!r}")
        return kind

    def _check_between(self, out: Path, when: str) -> None:
        for name, job_dir in _job_dirs(out).items():
            check = check_predictions(job_dir / "predictions.jsonl")
            self.figures.corrupt += check.corrupt
            self.figures.duplicated += check.duplicated
            self.figures.torn_tails += check.torn
            self.figures.retried_lines += check.retried
            self.figures.problems += [f"{when}, {name}: {problem}" for problem in check.problems]
            for sample, answers in check.answers.items():
                if answers[-1] != self.reference[name].get(sample):
                    self.figures.wrong += 1
                    self.figures.problems.append(f"{when}, {name}: {sample} answered {answers[-1]!r}")

    def _finish(self, out: Path, cycle: int) -> None:
        """Rerun until a run exits 0, then hold the folder to the reference."""

        for attempt in range(RERUN_TRIES):
            host = self._start(out, f"cycle{cycle}.log")
            try:
                code = host.wait(timeout=600)
            except subprocess.TimeoutExpired:
                host.kill()
                code = host.wait()
            self.figures.host_exit_codes[code] += 1
            if code == 0:
                break
            self.figures.problems.append(f"cycle {cycle}: rerun {attempt + 1} exited {code}")
        else:
            self.figures.stuck += 1
        time.sleep(0.2)  # a leftover would have had time to show
        if left := self._leftovers(out):
            self.figures.stuck += 1
            self.figures.problems.append(f"cycle {cycle}: left behind after the final run: {left}")
        dirs = _job_dirs(out)
        for name, expected in self.reference.items():
            job_dir = dirs.get(name)
            if job_dir is None:
                self.figures.lost += len(expected)
                continue
            status = JobDir(job_dir).read_status()
            if status.state != "done":
                self.figures.stuck += 1
                self.figures.problems.append(f"cycle {cycle}, {name}: final status {status.state}: {status.error}")
            check = check_predictions(job_dir / "predictions.jsonl")
            self.figures.corrupt += check.corrupt + check.torn
            # Finished: exactly one line per sample, a failed line beside an answered one included.
            twice = [sample for sample, n in check.lines.items() if n > 1]
            self.figures.duplicated += len(twice)
            self.figures.problems += [f"cycle {cycle}, {name}: {problem}" for problem in check.problems]
            self.figures.problems += [f"cycle {cycle}, {name}: {sample} has {check.lines[sample]} lines"
                                      for sample in twice]
            for sample, answer in expected.items():
                self.figures.samples_checked += 1
                answers = check.answers.get(sample, [])
                if not answers:
                    self.figures.lost += 1
                    self.figures.problems.append(f"cycle {cycle}, {name}: {sample} lost")
                elif answers[-1] != answer:
                    self.figures.wrong += 1
                    self.figures.problems.append(f"cycle {cycle}, {name}: {sample} answered {answers[-1]!r}")
        self.log(f"cycle {cycle}: finished, {self.figures.total_kills} kills so far")

    def run(self, kills: int, chain: tuple[int, int] = (2, 4)) -> Figures:
        """At least `kills` kills, in cycles of `chain` killed runs (fewer when one ends before its kill
        lands: the folder is finished) then a finishing rerun."""
        start = time.monotonic()
        if not self.reference:
            self.run_reference()
        cycle = 0
        while self.figures.total_kills < kills:
            cycle += 1
            out = self.workdir / f"cycle{cycle}" / "out"
            out.parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(1, self.rng.randint(*chain) + 1):
                if not self._kill_once(out, cycle, attempt):
                    break
            self._finish(out, cycle)
            self.figures.cycles = cycle
        self.figures.seconds = round(time.monotonic() - start, 1)
        return self.figures


def run_and_record(loop: KillLoop, kills: int, record: Path | None = None) -> Figures:
    """Run the loop, print its line, and write its figures as JSON to `record`."""
    figures = loop.run(kills)
    print(figures.line(), flush=True)
    for problem in figures.problems[:20]:
        print("  ", problem, flush=True)
    if record is not None:
        record.write_text(json.dumps(figures.as_dict(), indent=2))
    return figures
