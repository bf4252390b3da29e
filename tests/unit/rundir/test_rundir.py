"""vlmbench.rundir: the run directory's one owner; its records read back, and bad files named."""

from __future__ import annotations

import io
import json
import tokenize
from pathlib import Path

import pytest

import vlmbench
from vlmbench import rundir
from vlmbench.errors import JobSpecError, RunDirError
from vlmbench.rundir import JobDir, RunDir, read_spec
from vlmbench.rundir.records import (
    RUN_SCHEMA_VERSION,
    DatasetRef,
    HostInfo,
    JobMetrics,
    JobSpec,
    JobStatus,
    ModelRef,
    Prediction,
    ReportInputs,
    ResultRow,
    RunJob,
    RunRecord,
)
from vlmbench.shards import Shard


def spec(job_id: str = "job-1") -> JobSpec:
    return JobSpec(job_id=job_id, run_id="run-1", config_row=2,
                   model=ModelRef(model_name="m", framework="echo", class_path="echo"),
                   dataset=DatasetRef(name="d", path="/data/d", fingerprint="f"))


def record(job_ids: tuple[str, ...] = ("job-1",)) -> RunRecord:
    return RunRecord(run_id="run-1", created_at="2026-12-03T00:00:00+00:00", config="/c/run.csv",
                     executor="local", vlmbench="0.1", host=HostInfo(python="3.11", platform="Linux", node="n"),
                     jobs=[RunJob(job_id=j, config_row={"model_name": "m"}, catalog_row={"framework": "echo"},
                                  metrics=["anls"], aggregators=["general"], n_samples=3, dataset_root="/data/d")
                           for j in job_ids])


def one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


# --- round trips ---------------------------------------------------------------------------------------


def test_every_record_reads_back_as_written(tmp_path):
    run = RunDir(tmp_path)
    run.write_record(record())
    assert run.read_record() == record()
    assert json.loads(run.record_file.read_text())["schema_version"] == RUN_SCHEMA_VERSION
    job = run.job("job-1")
    job.create(spec())
    assert job.read_spec() == spec() and read_spec(job.spec_file) == spec()
    status = JobStatus(state="done", n_samples=3, n_done=3)
    job.write_status(status)
    assert job.read_status() == status
    row = ResultRow(job_id="job-1", model_name="m", framework="echo", dataset="d", metric="anls",
                    aggregator="general", group="all", value=0.5, n=3)
    metrics = JobMetrics(inputs="k", references_fingerprint="r", rows=[row])
    job.write_scores('{"id": "s0"}\n', metrics)
    assert job.read_metrics() == metrics and job.has_scores()
    run.write_results_and_report([row], "# md", "<html></html>", ReportInputs(key="k1"))
    assert run.read_results() == [row]
    assert run.read_report_inputs() == ReportInputs(key="k1")
    run.write_report("# md2", "<html>2</html>")  # drawn without its inputs: none are claimed any more
    assert run.read_report_inputs() is None
    (tmp_path / rundir.REPORT_KEY).write_text("0123abcd")  # an older vlmbench's bare key: drawn again
    assert run.read_report_inputs() is None
    assert [j.job_id for j in run.job_dirs()] == ["job-1"]


def test_the_layout_is_the_documented_one(tmp_path):
    run, job = RunDir(tmp_path), RunDir(tmp_path).job("abc")
    assert (run.record_file, run.lock_file, run.results_file, run.report_html) == (
        tmp_path / "run.json", tmp_path / "run.lock", tmp_path / "results.csv", tmp_path / "report.html")
    assert job.path == tmp_path / "jobs" / "abc"
    names = {job.spec_file.name, job.container_spec_file.name, job.status_file.name, job.predictions_file.name,
             job.log_file.name, job.batch_script.name, job.scores_file.name, job.metrics_file.name}
    assert names == {"job.json", "container-job.json", "status.json", "predictions.jsonl", "worker.log",
                     "slurm.sh", "scores.jsonl", "metrics.json"}
    # Each named in the module's own map of the layout, so the docstring cannot drift from the code.
    assert all(name in rundir.__doc__ for name in names | {"run.json", "run.lock", "results.csv", "report.html"})
    assert RunDir.holding(job.path).root == tmp_path
    assert RunDir.holding(tmp_path / "elsewhere" / "abc") is None


def test_the_container_gets_its_own_job_file_and_the_plan_s_stays(tmp_path):
    job = JobDir(tmp_path / "jobs" / "j")
    job.create(spec())
    planned = job.spec_file.read_bytes()
    inside = spec().model_copy(update={"dataset": spec().dataset.model_copy(update={"path": "/dataset"})})
    written = job.write_container_spec(inside)
    assert written == job.container_spec_file and read_spec(written).dataset.path == "/dataset"
    assert job.spec_file.read_bytes() == planned  # the host's paths, as planned
    assert JobDir.of_spec_file(written).path == job.path
    assert JobDir.is_spec_file("/job/container-job.json") and JobDir.is_spec_file("x/jobs/j/job.json")
    assert not JobDir.is_spec_file("x/jobs/j/status.json")


def test_a_fresh_job_folder_forgets_an_earlier_run(tmp_path):
    job = JobDir(tmp_path / "j")
    job.create(spec())
    job.write_status(JobStatus(state="done"))
    job.create(spec())
    assert job.has_status()  # resume keeps what was there
    job.create(spec(), fresh=True)
    assert not job.has_status() and job.read_spec() == spec()


# --- what crash safety expects ----------------------------------------------------------------------------


def test_a_job_never_started_is_pending_and_has_no_predictions(tmp_path):
    job = JobDir(tmp_path / "j")
    assert job.read_status() == JobStatus() and job.read_status().state == "pending"
    assert job.read_predictions() == [] and job.predictions_signature() == []


def test_a_torn_last_prediction_is_dropped_and_a_retried_sample_counts_once(tmp_path):
    job = JobDir(tmp_path / "j")
    job.path.mkdir()
    lines = [Prediction(id="a", prompt="p", error="boom").model_dump_json(),
             Prediction(id="b", prompt="p", answer="2").model_dump_json(),
             Prediction(id="a", prompt="p", answer="1").model_dump_json()]
    job.predictions_file.write_text("\n".join(lines) + "\n" + lines[1][:9])
    assert [(p.id, p.answer) for p in job.read_predictions()] == [("a", "1"), ("b", "2")]
    job.rewrite_predictions(job.read_predictions())
    assert job.predictions_file.read_text().count("\n") == 2 and job.predictions_file.read_text().endswith("\n")


def test_shards_answers_are_read_with_the_job_s_until_merged_into_it(tmp_path):
    job = JobDir(tmp_path / "j")
    job.path.mkdir()
    first, second = job.shard(Shard(1, 2)), job.shard(Shard(2, 2))
    assert job.shard(None) is job and first.path == job.path / "shards" / "1-of-2"
    job.rewrite_predictions([Prediction(id="a", prompt="p", error="boom")])
    first.rewrite_predictions([Prediction(id="a", prompt="p", answer="1")])
    first.write_status(JobStatus(state="interrupted"))
    second.path.mkdir(parents=True)
    second.predictions_file.write_text(Prediction(id="b", prompt="p", answer="2").model_dump_json() + "\n{torn")
    second.write_status(JobStatus(state="done"))
    expected = [("a", "1"), ("b", "2")]
    assert [(p.id, p.answer) for p in job.read_predictions()] == expected
    assert [p.id for p in job.read_predictions(with_shards=False)] == ["a"]
    # The light rows scoring reads are the same predictions by id, in the same order, less their prompts.
    rows = job.read_prediction_rows()
    assert list(rows.items()) == [(p.id, (p.id, p.answer, p.error, p.latency_s)) for p in job.read_predictions()]
    assert [row.answered for row in rows.values()] == [True, True]
    signature = job.predictions_signature()
    assert [name for name, *_ in signature] == ["j", "1-of-2", "2-of-2"]
    second.write_status(JobStatus(state="running"))  # its worker still appends: left alone
    job.merge_shards()
    assert [(p.id, p.answer) for p in job.read_predictions(with_shards=False)] == [("a", "1")]
    assert second.has_predictions() and not first.has_predictions()
    assert [(p.id, p.answer) for p in job.read_predictions()] == expected
    second.write_status(JobStatus(state="done"))
    job.merge_shards()
    assert [(p.id, p.answer) for p in job.read_predictions(with_shards=False)] == expected
    assert not first.has_predictions() and not second.has_predictions()
    assert second.read_status().state == "done"  # statuses and logs stay
    job.merge_shards()  # nothing left to merge: unchanged
    assert [(p.id, p.answer) for p in job.read_predictions()] == expected


def test_a_metrics_cache_from_another_vlmbench_is_scored_again(tmp_path):
    job = JobDir(tmp_path / "j")
    job.path.mkdir()
    job.metrics_file.write_text('{"rows": "old shape"}')
    assert job.read_metrics() is None


# --- corrupt and foreign files: an error naming the file --------------------------------------------------


@pytest.mark.parametrize(("text", "said"), [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not a vlmbench run record"),
    ('{"run_id": "r"}', "not a vlmbench run record: created_at: Field required"),
    (json.dumps({**record().model_dump(), "schema_version": 99}), "schema version 99"),
    (json.dumps({**record().model_dump(), "surprise": 1}), "surprise: Extra inputs are not permitted"),
])
def test_a_corrupt_or_foreign_run_json_is_an_error_naming_it(tmp_path, text, said):
    (tmp_path / "run.json").write_text(text)
    with pytest.raises(RunDirError) as error:
        RunDir(tmp_path).read_record()
    assert str(tmp_path / "run.json") in one_line(error) and said in str(error.value)


def test_a_newer_run_json_says_to_upgrade_and_an_unversioned_one_is_version_1(tmp_path):
    data = record().model_dump()
    (tmp_path / "run.json").write_text(json.dumps({**data, "schema_version": RUN_SCHEMA_VERSION + 1}))
    with pytest.raises(RunDirError, match="upgrade vlmbench"):
        RunDir(tmp_path).read_record()
    data.pop("schema_version")  # what vlmbench wrote before run.json had a version
    (tmp_path / "run.json").write_text(json.dumps(data))
    assert RunDir(tmp_path).read_record() == record()


def test_a_folder_that_is_no_run_says_so(tmp_path):
    with pytest.raises(RunDirError, match="is not a run directory"):
        RunDir(tmp_path).read_record()
    assert not RunDir(tmp_path).looks_like_run()


@pytest.mark.parametrize("text", ["", "{", '{"state": "exploded"}', "\xff\xfe", '{"n_done": "many"}'])
def test_a_corrupt_status_is_an_error_naming_it_not_a_pending_job(tmp_path, text):
    job = JobDir(tmp_path / "j")
    job.path.mkdir()
    job.status_file.write_text(text, encoding="latin-1")
    with pytest.raises(RunDirError) as error:
        job.read_status()
    assert str(job.status_file) in one_line(error)


def test_a_bad_prediction_line_before_the_end_is_an_error_naming_file_and_line(tmp_path):
    job = JobDir(tmp_path / "j")
    job.path.mkdir()
    good = Prediction(id="a", prompt="p", answer="1").model_dump_json()
    job.predictions_file.write_text(f'{good}\n{{"id": 7}}\n{good}\n')
    with pytest.raises(RunDirError) as error:
        job.read_predictions()
    assert f"{job.predictions_file}, row 2" in one_line(error) or f"{job.predictions_file}:2" in one_line(error)


@pytest.mark.parametrize(("text", "said"), [
    ("{", "not valid JSON"),
    ('{"schema_version": 1}', "job schema version 1"),
    (json.dumps({**json.loads(spec().model_dump_json()), "job_id": 5}), "invalid job file: job_id"),
])
def test_a_bad_job_file_is_a_job_spec_error_naming_it(tmp_path, text, said):
    path = tmp_path / "job.json"
    path.write_text(text)
    with pytest.raises(JobSpecError) as error:
        read_spec(path)
    assert str(path) in one_line(error) and said in str(error.value)


# --- one owner -------------------------------------------------------------------------------------------


#: Names of run-directory files; no module outside vlmbench/rundir spells one as a string ("jobs", a
#: common word, is left out: a report's context has a key of that name).
RUN_FILE_NAMES = {rundir.RUN_RECORD, rundir.LOCK, rundir.RESULTS, rundir.REPORT_MD, rundir.REPORT_HTML,
                  rundir.REPORT_KEY, *rundir.SPEC_FILES, rundir.STATUS, rundir.PREDICTIONS, rundir.LOG,
                  rundir.BATCH_SCRIPT, rundir.SCORES, rundir.METRICS, rundir.SAMPLES}
#: Where the same name means another folder's file: a trained model's metrics, not a job's.
ELSEWHERE = {("vlmbench/training/shipping.py", "metrics.json")}


def test_no_module_but_rundir_names_a_file_of_the_run_directory():
    package = Path(vlmbench.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).as_posix()
        if relative.startswith("vlmbench/rundir/"):
            continue
        for token in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
            if token.type != tokenize.STRING or token.string.startswith(('"""', "'''")):
                continue
            text = token.string.strip("\"'")
            if text in RUN_FILE_NAMES and (relative, text) not in ELSEWHERE:
                found.append(f"{relative}:{token.start[0]} {text}")
    assert found == []
