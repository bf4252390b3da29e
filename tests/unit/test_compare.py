"""vlmbench.compare: pairing by sample id, refusals, ranking groups, runs from different times, the report section.

Run directories are written through RunDir/JobDir with scores made up for
each case, so every figure expected here is known in advance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vlmbench.compare import CompareError, compare_runs, run_comparison
from vlmbench.metrics.paired import mcnemar_exact
from vlmbench.report.render import render_pair
from vlmbench.rundir import RunDir
from vlmbench.rundir.records import (
    DatasetRef,
    HostInfo,
    JobMetrics,
    JobSpec,
    ModelRef,
    ResultRow,
    RunJob,
    RunRecord,
    SampleScore,
)

DIRECTION = {"accuracy": True, "anls": True, "cer": False}


def write_run(root: Path, models: dict[str, dict[str, list[float | None]]], ids: list[str] | None = None,
              dataset: str = "d", shuffle: int | None = None) -> Path:
    """A run directory whose job for each model scored ``ids`` with the given values per metric."""
    run = RunDir(root)
    jobs = []
    for n, (model, metrics) in enumerate(models.items()):
        job_id = f"{root.name}-job{n}"
        count = len(next(iter(metrics.values())))
        sample_ids = ids or [f"s{i}" for i in range(count)]
        order = np.random.default_rng(shuffle).permutation(count) if shuffle is not None else range(count)
        lines = [SampleScore(id=sample_ids[i], reference="r", answer="a",
                             scores={m: values[i] for m, values in metrics.items()}).model_dump_json()
                 for i in order]
        rows = [ResultRow(job_id=job_id, model_name=model, framework="echo", dataset=dataset, metric=m,
                          aggregator="general", group="all", value=0.0, n=count, higher_is_better=DIRECTION[m])
                for m in metrics]
        files = run.job(job_id)
        files.create(JobSpec(job_id=job_id, run_id=root.name, config_row=n + 1,
                             model=ModelRef(model_name=model, framework="echo", class_path="echo"),
                             dataset=DatasetRef(name=dataset, path=f"/data/{dataset}", fingerprint="f")))
        files.write_scores("".join(line + "\n" for line in lines),
                           JobMetrics(inputs="k", references_fingerprint="r", rows=rows))
        jobs.append(RunJob(job_id=job_id, config_row={"model_name": model}, catalog_row={}, metrics=list(metrics),
                           aggregators=["general"], n_samples=count, dataset_root=f"/data/{dataset}"))
    run.write_record(RunRecord(run_id=root.name, created_at="2026-12-03T00:00:00+00:00", config="/c/run.csv",
                               executor="local", vlmbench="test",
                               host=HostInfo(python="3.11", platform="Linux", node="n"), jobs=jobs))
    return root


def right_wrong(n: int, right: int, seed: int) -> list[float]:
    values = np.zeros(n)
    values[np.random.default_rng(seed).permutation(n)[:right]] = 1.0
    return values.tolist()


def test_pairs_are_matched_by_sample_id_not_by_line(tmp_path):
    a = right_wrong(200, 120, seed=1)
    b = list(a)
    for i in range(30):  # b loses 30 that a got right and wins 10 that a got wrong
        b[[k for k, v in enumerate(a) if v == 1.0][i]] = 0.0
    for i in range(10):
        b[[k for k, v in enumerate(a) if v == 0.0][i]] = 1.0
    write_run(tmp_path / "r1", {"model-a": {"accuracy": a}})
    write_run(tmp_path / "r2", {"model-b": {"accuracy": b}}, shuffle=7)  # its lines in another order
    (table,) = compare_runs([tmp_path / "r1", tmp_path / "r2"]).tables
    (pair,) = table.pairs
    assert (pair.a, pair.b, pair.only_a, pair.only_b) == ("model-a", "model-b", 30, 10)
    assert pair.difference == pytest.approx(0.1)
    assert pair.p_value == pair.p_holm == mcnemar_exact(30, 10)
    assert pair.significant and table.test == "mcnemar"


def test_a_sample_one_model_failed_is_left_out_of_its_pairs_not_counted_wrong(tmp_path):
    a = [1.0] * 40 + [0.0] * 10
    b = [None] * 5 + [1.0] * 35 + [0.0] * 10  # five failed predictions
    write_run(tmp_path / "run", {"a": {"accuracy": a}, "b": {"accuracy": b}})
    (table,) = compare_runs([tmp_path / "run"]).tables
    (pair,) = table.pairs
    assert pair.n == 45 and pair.difference == 0.0 and not pair.significant
    assert {m.label: m.n for m in table.models} == {"a": 50, "b": 45}


def test_different_samples_across_runs_are_refused_in_one_line(tmp_path):
    write_run(tmp_path / "june", {"a": {"accuracy": [1.0, 0.0, 1.0]}})
    write_run(tmp_path / "july", {"b": {"accuracy": [1.0, 0.0]}}, ids=["s0", "s1"])
    with pytest.raises(CompareError) as error:
        compare_runs([tmp_path / "june", tmp_path / "july"])
    text = str(error.value)
    assert "\n" not in text and "different samples (3 and 2" in text and "'s2' only in a's" in text
    assert str(tmp_path / "june") in text and str(tmp_path / "july") in text


def test_a_model_not_in_the_runs_is_refused_with_the_close_names(tmp_path):
    write_run(tmp_path / "run", {"qwen2-vl-2b": {"accuracy": [1.0, 0.0]}, "internvl2-2b": {"accuracy": [1.0, 1.0]}})
    with pytest.raises(CompareError, match=r"no model 'qwen2-vl-7b'.*did you mean qwen2-vl-2b"):
        compare_runs([tmp_path / "run"], ["qwen2-vl-7b", "internvl2-2b"])
    with pytest.raises(CompareError, match="nothing to compare"):
        compare_runs([tmp_path / "run"], ["Qwen2_VL_2B"])  # found in any spelling, but alone


def test_models_not_significantly_different_from_a_groups_best_share_its_rank(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.random(300)
    runs = {
        "strong": {"anls": np.clip(base + 0.3, 0, 1).tolist()},
        "mid": {"anls": base.tolist()},
        "mid-twin": {"anls": np.clip(base + rng.normal(0, 0.01, 300), 0, 1).tolist()},
        "weak": {"anls": np.clip(base - 0.3, 0, 1).tolist()},
    }
    (table,) = compare_runs([write_run(tmp_path / "run", runs)]).tables
    assert table.test == "sign-flip"
    assert [(m.label, m.group) for m in table.models][:1] == [("strong", 1)]
    groups = {m.label: m.group for m in table.models}
    assert groups == {"strong": 1, "mid": 2, "mid-twin": 2, "weak": 3}
    assert len(table.pairs) == 6 and all(p.p_holm >= p.p_value for p in table.pairs)
    twins = next(p for p in table.pairs if {p.a, p.b} == {"mid", "mid-twin"})
    assert not twins.significant and twins.ci_low <= 0 <= twins.ci_high


def test_lower_is_better_ranks_the_lower_error_first(tmp_path):
    rng = np.random.default_rng(1)
    clean = rng.random(150) * 0.1
    run = write_run(tmp_path / "run", {"noisy": {"cer": (clean + 0.2).tolist()}, "clean": {"cer": clean.tolist()}})
    (table,) = compare_runs([run]).tables
    assert not table.higher_is_better
    assert [m.label for m in table.models] == ["clean", "noisy"] and table.models[1].group == 2
    (pair,) = table.pairs
    assert pair.a == "clean" and pair.difference == pytest.approx(-0.2) and pair.significant


def test_the_same_model_in_two_runs_is_named_by_its_run(tmp_path):
    scores = {"accuracy": right_wrong(80, 40, seed=2)}
    write_run(tmp_path / "june", {"m": scores})
    write_run(tmp_path / "july", {"m": scores})
    (table,) = compare_runs([tmp_path / "june", tmp_path / "july"]).tables
    assert {m.label for m in table.models} == {"m @ june", "m @ july"}
    assert table.pairs[0].difference == 0.0 and table.pairs[0].p_value == 1.0


def test_a_run_named_twice_is_compared_once_and_same_named_runs_by_their_path(tmp_path):
    scores = {"accuracy": right_wrong(60, 30, seed=5)}
    write_run(tmp_path / "june" / "out", {"m": scores, "n": {"accuracy": right_wrong(60, 50, seed=6)}})
    write_run(tmp_path / "july" / "out", {"m": scores})
    (table,) = compare_runs([tmp_path / "june" / "out", tmp_path / "june" / "." / "out"]).tables
    assert {m.label for m in table.models} == {"m", "n"}
    (table,) = compare_runs([tmp_path / "june" / "out", tmp_path / "july" / "out"], ["m"]).tables
    assert {m.label for m in table.models} == {f"m @ {tmp_path / 'june' / 'out'}", f"m @ {tmp_path / 'july' / 'out'}"}


def compare_section(run: Path) -> tuple[str, str]:
    """The report's comparison section of ``run``, alone: Markdown and the HTML fragment."""
    comparison = run_comparison(run)
    assert comparison is not None
    return render_pair("compare", {"comparison": comparison})


def test_the_report_section_is_markdown_and_self_contained_html(tmp_path):
    run = write_run(tmp_path / "run", {"good": {"accuracy": right_wrong(100, 90, 3)},
                                       "<b>bad</b>": {"accuracy": right_wrong(100, 20, 4)}})
    markdown, html = compare_section(run)
    assert "## Paired comparison" in markdown
    assert "| good − <b>bad</b> | +0.700 |" in markdown and "| significant |" in markdown
    assert html.startswith('<section id="compare">') and "&lt;b&gt;bad&lt;/b&gt;" in html
    assert "http" not in html and "<script" not in html
    assert run_comparison(write_run(tmp_path / "alone", {"solo": {"accuracy": [1.0, 0.0]}})) is None


def test_a_dataset_whose_jobs_cannot_be_paired_gets_a_line_saying_why_and_the_others_their_tables(tmp_path):
    run = write_run(tmp_path / "run", {"a": {"accuracy": right_wrong(50, 40, 1)},
                                       "b": {"accuracy": right_wrong(50, 10, 2)}})
    # Two jobs on dataset e over different samples, as if it had been run with two limits.
    parts = [write_run(tmp_path / "e1", {"c": {"accuracy": [1.0, 0.0, 1.0]}}, dataset="e"),
             write_run(tmp_path / "e2", {"d": {"accuracy": [1.0, 0.0]}}, dataset="e")]
    record = RunDir(run).read_record()
    moved = []
    for part in parts:
        (job,) = RunDir(part).read_record().jobs
        RunDir(part).job(job.job_id).path.rename(RunDir(run).job(job.job_id).path)
        moved.append(job)
    RunDir(run).write_record(record.model_copy(update={"jobs": [*record.jobs, *moved]}))
    markdown, html = compare_section(run)
    assert "Not compared: cannot compare c" in markdown and "different samples (3 and 2" in html
    assert "### d: accuracy" in markdown and "| a − b | +0.600 |" in markdown
    with pytest.raises(CompareError, match="different samples"):  # the command refuses instead
        compare_runs([run])


def test_the_terminal_tables_fit_80_columns_with_long_model_names(tmp_path):
    from rich.console import Console

    from vlmbench.compare.tables import comparison_tables

    run = write_run(tmp_path / "run", {
        "Qwen2.5-VL-72B-Instruct-AWQ-served-by-vllm": {"cer": [0.3 * v for v in right_wrong(300, 120, 1)]},
        "InternVL3-78B-Instruct-with-a-long-name": {"cer": [0.1 * v for v in right_wrong(300, 150, 2)]}})
    console = Console(width=80, record=True)
    for table in comparison_tables(compare_runs([run])):
        console.print(table)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80 and "significant" in text
