"""The run directory: its layout, and every read and write of the files in it.

    RUN_DIR/
      run.json               RunRecord: what was run, with what, where (schema-versioned)
      run.lock               who runs here now (vlmbench.runlock writes it through its locked descriptor)
      results.csv            ResultRow per job, metric, aggregator and group
      report.md, report.html
      .report-inputs         ReportInputs: the key of what results.csv and the report were drawn from, and
                             the jobs table; a rerun with nothing new prints that and redraws nothing
      <format>/              what `vlmbench export` writes, unless told elsewhere
      slurm-arrays/<n>/      one Slurm job array (slurm executor): array.sh picks task i's batch script,
                             tasks.json (SlurmArrayTasks) says which folder that is, and <i>.log links
                             to that folder's worker.log, where Slurm writes the task's output
      jobs/<job id>/
        job.json             JobSpec: the planned job, with the host's paths
        container-job.json   JobSpec: the same job with the paths its container sees (docker executor)
        samples.json         JobSamples: the job's selected samples as the host parsed them, so that its
                             worker does not parse the annotation file again
        status.json          JobStatus: where the job stands, rewritten whole at each step
        predictions.jsonl    a Prediction per line, appended by the worker
        worker.log           the worker's output and the host's notes about the job
        slurm.sh             the batch script (slurm executor)
        scores.jsonl         a SampleScore per line
        metrics.json         JobMetrics: the job's result rows and the inputs they came from
        shards/<i>-of-<K>/   a sharded job's shards, each a job folder of its own (status.json,
                             predictions.jsonl, worker.log); their predictions are merged into the
                             job's when the job ends, and read with them until then

Every other module reaches these files through :class:`RunDir` and
:class:`JobDir`, so the layout is written down once. A file vlmbench
wrote is read back into its record; one that does not parse (corrupt,
from another tool, from a newer vlmbench) is a :class:`RunDirError`
naming the file, never a silent default. The exceptions are the ones
that crash safety expects: a missing status is a job not started, a
torn last prediction line is the write a kill interrupted, and a
metrics.json that no longer matches is scored again (it is a cache).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from pydantic import ValidationError

from vlmbench.errors import JobSpecError, Location, RunDirError
from vlmbench.fileio import write_atomic
from vlmbench.rundir.records import (
    JOB_SCHEMA_VERSION,
    RUN_SCHEMA_VERSION,
    JobMetrics,
    JobSamples,
    JobSpec,
    JobStatus,
    Prediction,
    ReportInputs,
    ResultRow,
    RunRecord,
    SampleScore,
    SlurmArrayTasks,
    now_iso,
)
from vlmbench.rundir.results_csv import read_results_csv, write_results_csv
from vlmbench.shards import Shard

RUN_RECORD = "run.json"
LOCK = "run.lock"
JOBS = "jobs"
RESULTS = "results.csv"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
REPORT_KEY = ".report-inputs"

JOB_SPEC = "job.json"
CONTAINER_JOB_SPEC = "container-job.json"
SAMPLES = "samples.json"
STATUS = "status.json"
PREDICTIONS = "predictions.jsonl"
LOG = "worker.log"
BATCH_SCRIPT = "slurm.sh"
SCORES = "scores.jsonl"
METRICS = "metrics.json"
SHARDS = "shards"
SLURM_ARRAYS = "slurm-arrays"
ARRAY_SCRIPT = "array.sh"
ARRAY_TASKS = "tasks.json"
#: The files a worker is started with: `vlmbench worker <one of these>`.
SPEC_FILES = (JOB_SPEC, CONTAINER_JOB_SPEC)


class PredictionRow(NamedTuple):
    """A prediction without its prompt: the fields scores and the jobs table are computed from."""

    id: str
    answer: str | None
    error: str | None
    latency_s: float

    @classmethod
    def of(cls, prediction: Prediction) -> PredictionRow:
        return cls(prediction.id, prediction.answer, prediction.error, prediction.latency_s)

    @property
    def answered(self) -> bool:
        return self.error is None and self.answer is not None


def _write_atomic_pieces(path: Path, pieces: Iterable[str]) -> None:
    """:func:`write_atomic` for text that comes in pieces: each written as it comes, renamed over at the end."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(pieces)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # as write_atomic: others read run files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _reason(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _load_json(path: Path, what: str) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise RunDirError(f"{what} is not UTF-8 text", location=Location(path)) from None
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{what} is not valid JSON ({exc.msg}, line {exc.lineno})", location=Location(path),
                          hint="it was not written by vlmbench, or was edited; restore it or run the "
                               "job again into a new --out folder") from None


def read_spec(path: Path | str) -> JobSpec:
    """A job file (job.json or container-job.json): what a worker is told to do."""
    path = Path(path)
    try:
        raw = _load_json(path, "job file")
    except OSError as exc:
        raise JobSpecError(f"cannot read job file: {exc.strerror or exc}", location=Location(path)) from None
    except RunDirError as exc:
        problem = exc.problems[0]
        raise JobSpecError(problem.message, location=problem.location, hint=problem.hint) from None
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    if version != JOB_SCHEMA_VERSION:
        raise JobSpecError(f"job schema version {version!r}, this worker reads version {JOB_SCHEMA_VERSION}",
                           location=Location(path),
                           hint=_version_hint(version, raw.get("image") if isinstance(raw, dict) else None))
    try:
        return JobSpec.model_validate(raw)
    except ValidationError as exc:
        raise JobSpecError(f"invalid job file: {_reason(exc)}", location=Location(path)) from None


def _version_hint(version: object, image: str | None) -> str:
    """Which side to update: the image (its worker is older) or the host."""
    # Set by the docker executor: the tag the container was started from.
    image = image or os.environ.get("VLMBENCH_IMAGE") or None
    if isinstance(version, int) and version < JOB_SCHEMA_VERSION:
        return "the host's vlmbench is older than this worker's: upgrade vlmbench on the host"
    if image:
        return (f"update the image {image} so its vlmbench matches the host's: "
                "`vlmbench build-images` or `vlmbench pull-images`")
    return "upgrade the vlmbench this worker runs so it matches the host's"


class JobDir:
    """One job's folder: ``RUN_DIR/jobs/<job id>``, or wherever a worker was pointed."""

    def __init__(self, path: Path | str | JobDir) -> None:
        self.path = path.path if isinstance(path, JobDir) else Path(path)

    def __repr__(self) -> str:
        return f"JobDir({str(self.path)!r})"

    @classmethod
    def of_spec_file(cls, spec_file: Path | str) -> JobDir:
        """The folder of the job file a worker was given."""
        return cls(Path(spec_file).parent)

    @staticmethod
    def is_spec_file(path: Path | str) -> bool:
        """Whether ``path`` (a worker's command-line argument) names a job file."""
        return Path(path).name in SPEC_FILES

    @property
    def job_id(self) -> str:
        return self.path.name

    @property
    def spec_file(self) -> Path:
        return self.path / JOB_SPEC

    @property
    def container_spec_file(self) -> Path:
        return self.path / CONTAINER_JOB_SPEC

    @property
    def samples_file(self) -> Path:
        return self.path / SAMPLES

    @property
    def status_file(self) -> Path:
        return self.path / STATUS

    @property
    def predictions_file(self) -> Path:
        return self.path / PREDICTIONS

    @property
    def log_file(self) -> Path:
        return self.path / LOG

    @property
    def batch_script(self) -> Path:
        return self.path / BATCH_SCRIPT

    @property
    def scores_file(self) -> Path:
        return self.path / SCORES

    @property
    def metrics_file(self) -> Path:
        return self.path / METRICS

    # --- shards ---

    def shard(self, shard: Shard | None) -> JobDir:
        """Where shard ``shard`` of this job writes (this folder itself for an unsharded job)."""
        return self if shard is None else JobDir(self.path / SHARDS / shard.name)

    def shard_dirs(self) -> list[JobDir]:
        """The shard folders present, of any shard count (a rerun may split the job otherwise)."""
        folder = self.path / SHARDS
        return [JobDir(path) for path in sorted(folder.iterdir()) if path.is_dir()] if folder.is_dir() else []

    def merge_shards(self) -> None:
        """Fold the predictions of every shard whose worker has ended into the job's file and remove
        theirs (statuses and logs stay).

        A shard still running or queued (its status says so: a Slurm job left
        running) keeps its file, which its worker appends to. The job's file
        is replaced whole first, so a kill in between leaves the same answers
        in two places, which reading unites again.
        """
        ended = [shard for shard in self.shard_dirs() if shard.has_predictions()
                 and shard.has_status() and shard.read_status().state in ("done", "failed", "interrupted")]
        if not ended:
            return
        latest: dict[str, Prediction] = {}
        for files in [self, *ended]:
            files._read_lines(latest)
        self.rewrite_predictions(list(latest.values()))
        for shard in ended:
            shard.predictions_file.unlink(missing_ok=True)

    # --- the plan's job file, and the container's ---

    def create(self, spec: JobSpec, *, fresh: bool = False) -> None:
        """Make the folder (emptied first when ``fresh``) and write the planned job into it."""
        if fresh and self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomic(self.spec_file, spec.model_dump_json(indent=2))

    def read_spec(self) -> JobSpec:
        return read_spec(self.spec_file)

    def write_container_spec(self, spec: JobSpec) -> Path:
        """The job as its container sees it, beside (never over) the plan's job.json."""
        write_atomic(self.container_spec_file, spec.model_dump_json(indent=2))
        return self.container_spec_file

    # --- samples.json ---

    def write_samples(self, samples: JobSamples) -> None:
        write_atomic(self.samples_file, samples.model_dump_json())

    def read_samples(self) -> JobSamples | None:
        """The samples the host handed this job; None when it handed none (a hand-written job, an older
        host) or the file does not parse, in which case the worker reads the dataset itself."""
        try:
            return JobSamples.model_validate_json(self.samples_file.read_bytes())
        except (OSError, ValidationError):
            return None

    # --- status.json ---

    def has_status(self) -> bool:
        return self.status_file.exists()

    def read_status(self) -> JobStatus:
        """The job's status; a job that never had one is pending."""
        try:
            data = self.status_file.read_bytes()
        except FileNotFoundError:
            return JobStatus()
        try:
            return JobStatus.model_validate_json(data)
        except ValidationError as exc:
            raise RunDirError(f"not a job status vlmbench can read: {_reason(exc)}",
                              location=Location(self.status_file),
                              hint="remove it to run the job again from its predictions") from None

    def write_status(self, status: JobStatus) -> None:
        write_atomic(self.status_file, status.model_dump_json(indent=2))

    # --- predictions.jsonl ---

    def has_predictions(self) -> bool:
        return self.predictions_file.exists()

    def read_predictions(self, *, with_shards: bool = True) -> list[Prediction]:
        """Each sample's latest prediction, in the order samples were first answered.

        A torn last line (the writer was killed mid-line) is dropped: the
        worker rewrites the file without it before it appends again. A
        sample appears twice when a resumed job retried it after it failed;
        its last line is the one that counts. Any other line that does not
        parse is an error naming it. The predictions of shards not merged
        yet come after the job's own, unless ``with_shards`` is False.
        """
        latest: dict[str, Prediction] = {}
        for files in [self, *(self.shard_dirs() if with_shards else [])]:
            files._read_lines(latest)
        return list(latest.values())

    def _read_lines(self, latest: dict[str, Any], keep: Callable[[Prediction], Any] = lambda p: p) -> None:
        try:
            handle = self.predictions_file.open("rb")
        except FileNotFoundError:
            return
        with handle:
            for number, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    break
                try:
                    prediction = Prediction.model_validate_json(line)
                except ValidationError as exc:
                    raise RunDirError(f"not a prediction: {_reason(exc)}",
                                      location=Location(self.predictions_file, number),
                                      hint="the file was edited or written by another tool; remove the "
                                           "line to predict that sample again") from None
                latest[prediction.id] = keep(prediction)

    def rewrite_predictions(self, kept: list[Prediction]) -> None:
        """Replace the file by ``kept``, one whole line each (no torn tail for appends to follow)."""
        write_atomic(self.predictions_file, "".join(p.model_dump_json() + "\n" for p in kept))

    def append_predictions(self) -> IO[str]:
        """The file opened for the worker's appends, one line per answered sample."""
        return self.predictions_file.open("a", encoding="utf-8")

    def read_prediction_rows(self) -> dict[str, PredictionRow]:
        """:meth:`read_predictions` as light rows without the prompts, by sample id (a retried sample's
        last line): what scoring and the jobs table use, neither of which builds an index of its own.

        Each line is still validated as a :class:`Prediction`; only the row is
        kept, a tenth of the memory of the record, so a million fit in a few
        hundred MB.
        """
        latest: dict[str, PredictionRow] = {}
        for files in [self, *self.shard_dirs()]:
            files._read_lines(latest, PredictionRow.of)
        return latest

    def predictions_signature(self) -> list[tuple[str, int, int]]:
        """Sizes and modification times (shards' too): what stands for the predictions in a cache key."""
        found = []
        for files in [self, *self.shard_dirs()]:
            try:
                stat = files.predictions_file.stat()
            except FileNotFoundError:
                continue
            found.append((files.path.name, stat.st_size, stat.st_mtime_ns))
        return found

    # --- worker.log ---

    def open_log(self) -> IO[bytes]:
        """The log opened for a worker's output (appended: earlier tries stay readable)."""
        self.path.mkdir(parents=True, exist_ok=True)
        return self.log_file.open("ab")

    def note(self, text: str) -> None:
        """A line of the host's own in the job's worker.log, beside what the worker writes there."""
        try:
            with self.log_file.open("a", encoding="utf-8") as log:
                log.write(f"vlmbench host {now_iso()}: {text}\n")
        except OSError:
            pass  # the job folder went away: the status says what happened

    def log_tail(self, lines: int) -> str:
        """The last lines of worker.log, joined on one line: what a failure's text ends with."""
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except FileNotFoundError:
            return ""
        return " | ".join(line.strip() for line in text[-lines:])

    # --- slurm.sh ---

    def write_batch_script(self, text: str) -> Path:
        write_atomic(self.batch_script, text)
        self.batch_script.chmod(0o755)
        return self.batch_script

    # --- scores ---

    def read_metrics(self) -> JobMetrics | None:
        """The job's cached metrics; None when absent or written by another vlmbench (scored again)."""
        try:
            return JobMetrics.model_validate_json(self.metrics_file.read_bytes())
        except (OSError, ValidationError):
            return None

    def has_scores(self) -> bool:
        return self.scores_file.exists()

    def write_scores(self, jsonl: str | Iterable[str], metrics: JobMetrics) -> None:
        """scores.jsonl first, then metrics.json: a metrics.json is only ever beside its own scores.

        ``jsonl`` may come in pieces (whole lines each), written as they come: a
        million lines never need to be one string in memory.
        """
        if isinstance(jsonl, str):
            write_atomic(self.scores_file, jsonl)
        else:
            _write_atomic_pieces(self.scores_file, jsonl)
        write_atomic(self.metrics_file, metrics.model_dump_json(indent=1))

    def iter_scores(self) -> Iterator[SampleScore]:
        """Each scored sample's line of scores.jsonl (none before the job was scored), a line at a time:
        readers keep a little of each (a million lines read whole take a gigabyte)."""
        try:
            handle = self.scores_file.open("rb")
        except FileNotFoundError:
            return
        with handle:
            for number, line in enumerate(handle, start=1):
                try:
                    yield SampleScore.model_validate_json(line)
                except ValidationError as exc:
                    raise RunDirError(f"not a sample's scores: {_reason(exc)}",
                                      location=Location(self.scores_file, number),
                                      hint="`vlmbench evaluate` writes the file again") from None


class SlurmArrayDir:
    """One Slurm job array of a run: its dispatch script, its tasks' folders and their output paths."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def script(self) -> Path:
        return self.path / ARRAY_SCRIPT

    @property
    def tasks_file(self) -> Path:
        return self.path / ARRAY_TASKS

    def output_pattern(self) -> Path:
        """sbatch --output for the array: Slurm puts the task index for %a."""
        return self.path / "%a.log"

    def write(self, tasks: SlurmArrayTasks, script: str) -> None:
        """Everything the array needs before sbatch sees it: the tasks (so that a later run can tell which
        task writes where, even if this host dies right after sbatch), the script, and each task's output
        path as a link to the worker.log of its folder (Slurm's own lines then land beside the worker's)."""
        write_atomic(self.tasks_file, tasks.model_dump_json(indent=1))
        for index, folder in enumerate(tasks.folders):
            link = self.path / f"{index}.log"
            link.unlink(missing_ok=True)
            link.symlink_to(JobDir(folder).log_file)
        write_atomic(self.script, script)
        self.script.chmod(0o755)

    def read_tasks(self) -> SlurmArrayTasks | None:
        """The array's tasks; None when the folder is not one of vlmbench's arrays (or is damaged)."""
        try:
            return SlurmArrayTasks.model_validate_json(self.tasks_file.read_bytes())
        except (OSError, ValidationError):
            return None


class RunDir:
    """A run's output folder: where `vlmbench run --out` writes and `evaluate`, `report`, `export` read."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"RunDir({str(self.root)!r})"

    @property
    def record_file(self) -> Path:
        return self.root / RUN_RECORD

    @property
    def lock_file(self) -> Path:
        return self.root / LOCK

    @property
    def jobs_folder(self) -> Path:
        return self.root / JOBS

    @property
    def results_file(self) -> Path:
        return self.root / RESULTS

    @property
    def report_md(self) -> Path:
        return self.root / REPORT_MD

    @property
    def report_html(self) -> Path:
        return self.root / REPORT_HTML

    @classmethod
    def holding(cls, job_folder: Path) -> RunDir | None:
        """The run directory a job folder lies in, when it lies in one."""
        return cls(job_folder.parent.parent) if job_folder.parent.name == JOBS else None

    @property
    def slurm_arrays_folder(self) -> Path:
        return self.root / SLURM_ARRAYS

    def new_slurm_array(self) -> SlurmArrayDir:
        """A folder for one more Slurm job array (numbered; only the run's host, under its lock, makes them)."""
        self.slurm_arrays_folder.mkdir(parents=True, exist_ok=True)
        number = len(list(self.slurm_arrays_folder.iterdir()))
        while True:
            try:
                (path := self.slurm_arrays_folder / str(number)).mkdir()
                return SlurmArrayDir(path)
            except FileExistsError:
                number += 1

    def export_folder(self, format_name: str) -> Path:
        return self.root / format_name

    def job(self, job_id: str) -> JobDir:
        return JobDir(self.jobs_folder / job_id)

    def job_dirs(self) -> list[JobDir]:
        """Every job folder present, planned in run.json or not (a killed run's, an older plan's)."""
        if not self.jobs_folder.is_dir():
            return []
        return [JobDir(path) for path in sorted(self.jobs_folder.iterdir()) if path.is_dir()]

    def worker_dirs(self) -> list[JobDir]:
        """Every folder a worker writes in: each job's, and each of its shards'."""
        return [folder for job in self.job_dirs() for folder in (job, *job.shard_dirs())]

    def looks_like_run(self) -> bool:
        """Whether anything vlmbench run leaves is here (run.json may be missing after an early kill)."""
        return any(path.exists() for path in (self.record_file, self.jobs_folder, self.lock_file))

    # --- run.json ---

    def read_record(self) -> RunRecord:
        path = self.record_file
        try:
            raw = _load_json(path, "run record")
        except FileNotFoundError:
            raise RunDirError(f"{self.root} is not a run directory (no {RUN_RECORD})",
                              hint="pass the --out folder of a `vlmbench run`") from None
        except OSError as exc:
            raise RunDirError(f"cannot read the run record: {exc.strerror or exc}", location=Location(path)) \
                from None
        if not isinstance(raw, dict):
            raise RunDirError("not a vlmbench run record (a JSON object with run_id and jobs)",
                              location=Location(path))
        version = raw.get("schema_version", RUN_SCHEMA_VERSION)
        if version != RUN_SCHEMA_VERSION:
            newer = isinstance(version, int) and version > RUN_SCHEMA_VERSION
            raise RunDirError(
                f"run record schema version {version!r}; this vlmbench reads version {RUN_SCHEMA_VERSION}",
                location=Location(path),
                hint="upgrade vlmbench to read this run" if newer else "it was not written by vlmbench")
        try:
            return RunRecord.model_validate(raw)
        except ValidationError as exc:
            raise RunDirError(f"not a vlmbench run record: {_reason(exc)}", location=Location(path),
                              hint="it was not written by vlmbench, or was edited") from None

    def write_record(self, record: RunRecord) -> None:
        write_atomic(self.record_file, record.model_dump_json(indent=2))

    # --- results.csv and the report ---

    def read_results(self) -> list[ResultRow]:
        return read_results_csv(self.results_file)

    def read_report_inputs(self) -> ReportInputs | None:
        """What results.csv and the report were last drawn from; None when they are not all there (or the
        record is from another vlmbench): then they are drawn again."""
        if not all(path.exists() for path in (self.results_file, self.report_md, self.report_html)):
            return None
        try:
            return ReportInputs.model_validate_json((self.root / REPORT_KEY).read_bytes())
        except (OSError, ValidationError):
            return None

    def write_results_and_report(self, results: list[ResultRow], markdown: str, html: str,
                                 inputs: ReportInputs | None = None) -> None:
        """results.csv, report.md and report.html, then what they were drawn from (if given)."""
        (self.root / REPORT_KEY).unlink(missing_ok=True)  # a kill in between must not leave an old key
        write_results_csv(self.results_file, results)
        self.write_report(markdown, html, inputs)

    def write_report(self, markdown: str, html: str, inputs: ReportInputs | None = None) -> None:
        """report.md and report.html; without ``inputs`` any recorded ones go, since they no longer hold."""
        (self.root / REPORT_KEY).unlink(missing_ok=True)
        write_atomic(self.report_md, markdown)
        write_atomic(self.report_html, html)
        if inputs is not None:
            write_atomic(self.root / REPORT_KEY, inputs.model_dump_json())


__all__ = ["JobDir", "PredictionRow", "RunDir", "RunDirError", "SlurmArrayDir", "read_spec"]
