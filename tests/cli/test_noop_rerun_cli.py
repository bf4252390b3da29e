"""`vlmbench run` again with nothing changed rebuilds nothing; a changed label or report option does."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import WORDS, make_text_dataset, write_echo_catalog
from vlmbench.cli.app import app
from vlmbench.executors.local import LocalExecutor
from vlmbench.rundir import RunDir

runner = CliRunner()

@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("VLMBENCH_GPU_PRICE", raising=False)


@pytest.fixture
def workers_started(monkeypatch) -> list[str]:
    """The job ids the local executor starts a worker for, in this process (the worker itself still runs)."""
    started: list[str] = []
    real = LocalExecutor.run_job

    def counting(self, job, job_dir, progress, shard=None):
        started.append(job.job_id)
        return real(self, job, job_dir, progress, shard)

    monkeypatch.setattr(LocalExecutor, "run_job", counting)
    return started


def invoke(*args) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime in ns) of every file in the run directory but run.json (rewritten with each plan)."""
    planned = {RunDir(out).record_file, RunDir(out).lock_file}
    return {str(path.relative_to(out)): (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in sorted(out.rglob("*")) if path.is_file() and path not in planned}


def tables(output: str) -> str:
    """The jobs table and the scores, as `run` prints them after its progress display."""
    return output[output.index("Jobs"):]


def general(job_dir: Path) -> float:
    rows = json.loads((job_dir / "metrics.json").read_text())["rows"]
    return next(r["value"] for r in rows if r["aggregator"] == "general")


@pytest.mark.integration
@pytest.mark.workers
def test_a_rerun_with_nothing_changed_rebuilds_nothing_and_a_change_rebuilds_what_it_touches(
        tmp_path, workers_started):
    dataset = make_text_dataset(tmp_path / "d", WORDS[:4])
    catalog = write_echo_catalog(tmp_path / "extra.csv", answer="total")  # right on s1 only
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,metrics\necho-test,{dataset},exact_match\n")
    out = tmp_path / "out"
    first = invoke("run", config, "--out", out, "--catalog", catalog)
    (job_dir,) = (out / "jobs").iterdir()
    assert workers_started == [job_dir.name] and general(job_dir) == 0.25
    before = stamps(out)
    for name in ("report.html", "report.md", "results.csv", "jobs/" + job_dir.name + "/metrics.json",
                 "jobs/" + job_dir.name + "/scores.jsonl", "jobs/" + job_dir.name + "/status.json"):
        assert name in before, name

    # Once more with nothing changed: no worker, no file rewritten, the same tables printed from the cache.
    again = invoke("run", config, "--out", out, "--catalog", catalog)
    assert workers_started == [job_dir.name]
    assert stamps(out) == before
    assert tables(again) == tables(first)
    evaluated = invoke("evaluate", out)
    assert stamps(out) == before and "exact_match" in evaluated

    # A report option: the report is drawn again, the scores stay.
    invoke("run", config, "--out", out, "--catalog", catalog, "--gpu-price", "2.5")
    after = stamps(out)
    assert workers_started == [job_dir.name]
    for name in ("report.html", "report.md"):
        assert after[name] != before[name], name
    for name in ("metrics.json", "scores.jsonl", "predictions.jsonl", "status.json"):
        key = f"jobs/{job_dir.name}/{name}"
        assert after[key] == before[key], key
    before = after
    invoke("run", config, "--out", out, "--catalog", catalog, "--gpu-price", "2.5")
    assert stamps(out) == before

    # A corrected label: rescored and drawn again, the model not run again.
    annotation = dataset / "annotation.csv"
    annotation.write_text(annotation.read_text().replace(";invoice;", ";total;"))  # relabel s0
    relabelled = invoke("run", config, "--out", out, "--catalog", catalog, "--gpu-price", "2.5")
    after = stamps(out)
    assert workers_started == [job_dir.name] and general(job_dir) == 0.5
    assert "rescored, no model rerun" in relabelled
    for name in ("report.html", "results.csv", f"jobs/{job_dir.name}/metrics.json",
                 f"jobs/{job_dir.name}/scores.jsonl"):
        assert after[name] != before[name], name
    for name in ("predictions.jsonl", "status.json"):
        assert after[f"jobs/{job_dir.name}/{name}"] == before[f"jobs/{job_dir.name}/{name}"], name
    assert stamps(out) == after  # stamps() itself reads nothing it changes
    invoke("run", config, "--out", out, "--catalog", catalog, "--gpu-price", "2.5")
    assert stamps(out) == after
