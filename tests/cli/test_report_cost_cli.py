"""`--gpu-price` and $VLMBENCH_GPU_PRICE: the report's cost per 1,000 samples, or a note that none was given."""

import pytest
from typer.testing import CliRunner

from tests.conftest import write_echo_catalog
from vlmbench.cli.app import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_price_variable(monkeypatch):
    monkeypatch.delenv("VLMBENCH_GPU_PRICE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def cost_lines(markdown: str) -> list[str]:
    section = markdown.split("## Quality against cost", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "echo-test" in line]


@pytest.mark.integration
@pytest.mark.workers
def test_gpu_price_from_run_report_and_variable(tmp_path, text_dataset, monkeypatch):
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,metrics\necho-test,{text_dataset},['exact_match']\n", encoding="utf-8")
    catalog = write_echo_catalog(tmp_path / "extra.csv")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--catalog", str(catalog)])
    assert result.exit_code == 0, result.output
    [line] = cost_lines((out / "report.md").read_text(encoding="utf-8"))
    assert line.rstrip(" |").endswith("no price")  # none given: said, not invented
    assert "--gpu-price" in (out / "report.md").read_text(encoding="utf-8")

    result = runner.invoke(app, ["report", str(out), "--gpu-price", "3.6"])
    assert result.exit_code == 0, result.output
    [line] = cost_lines((out / "report.md").read_text(encoding="utf-8"))
    assert "no price" not in line and "3.6 per GPU-hour" in (out / "report.md").read_text(encoding="utf-8")

    monkeypatch.setenv("VLMBENCH_GPU_PRICE", "1.5")
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0
    assert "1.5 per GPU-hour" in (out / "report.md").read_text(encoding="utf-8")

    monkeypatch.setenv("VLMBENCH_GPU_PRICE", "cheap")
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [(
        "error: VLMBENCH_GPU_PRICE must be a number >= 0 (currency per GPU-hour), got 'cheap' "
        "(e.g. VLMBENCH_GPU_PRICE=2.5, or unset it)")]
