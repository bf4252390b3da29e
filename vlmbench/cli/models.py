"""`vlmbench list-models`: the catalog as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vlmbench.cli.console import console

if TYPE_CHECKING:
    from vlmbench.runs_here import RunsHere

CatalogOption = Annotated[list[Path] | None, typer.Option(
    "--catalog", metavar="FILE", help="Extra models.csv (repeatable).")]

# Lines of at most 80 characters: the console soft-wraps (a long log line reads better), so rich would not.
CAPTION = ("checked: cpu = a tiny model of the family in the framework's CPU image;\n"
           "image = in the row's own image; gpu = the CUDA path run on a GPU.\n"
           "runs here: local = the local executor imports it; docker = its image is here;\n"
           "no: GPU = needs more GPU memory than here; pull = neither; engine? = not\n"
           "importable, and no Docker Engine answered.")
# 80 columns hold these; --wide adds the rest.
COLUMNS = ("model", "framework", "GB", "checked", "runs here")
WIDE_COLUMNS = ("model", "family", "framework", "class", "weights", "tasks", "GB", "image", "checked", "runs here")
NO_WRAP = ("framework", "GB", "runs here")


# Cells are (text, style) pairs made into rich Text: no markup to parse in a user's catalog, and a 70-row
# table renders in two thirds of the time.
def _runs_here_cell(runs: RunsHere) -> tuple[str, str]:
    if runs.ok:
        return ", ".join(runs.executors), "green"
    return {"GPU": ("no: GPU", "red"), "pull": ("no: pull", "yellow")}.get(runs.why_not, ("no: engine?", "dim"))


def _image_cell(image: str, present: bool | None) -> tuple[str, str]:
    if not image:
        return "—", "dim"
    return f"{image} {'?' if present is None else '✓' if present else 'pull'}", ""


def list_models(
    task: Annotated[str | None, typer.Option(
        metavar="TASK", help="Only models for this task: vqa, doc, ocr, ... (any case).")] = None,
    framework: Annotated[str | None, typer.Option(
        metavar="NAME", help="Only this framework: hf, vllm, vllm-server, tesseract, ... or a peer's spelling "
                             "such as 'Hugging Face' (any case).")] = None,
    family: Annotated[str | None, typer.Option(metavar="NAME", help="Only this model family (any case).")] = None,
    verified: Annotated[bool, typer.Option(
        "--verified", help="Only rows whose family a check has proven (see the 'checked' column).")] = False,
    wide: Annotated[bool, typer.Option(
        "--wide", help="Every column: also each row's family, class, weights, tasks and image.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    catalog: CatalogOption = None,
) -> None:
    """The model catalog: what each model needs, what was checked, whether it runs here.

    'checked' names where a tiny model of the row's architecture passed the
    conformance checks: cpu (through the row's framework in its CPU image),
    image (the row's own image built from the same lock), gpu (the CUDA path
    on a GPU); the record is vlmbench/data/verification.json. 'runs here':
    the local executor can import the row's adapter and its framework's
    packages, or the Docker Engine holds its image; and the GPUs here hold its
    GB. A filter that matches nothing lists the values it could take.

    Example: vlmbench list-models --task vqa --framework hf
    """
    from vlmbench.catalog import filter_rows, load_catalog
    from vlmbench.runs_here import engine_image_tags, gpu_memory_gb, runs_here
    from vlmbench.verification import load_verification, verified_label

    record = load_verification()
    rows = [row for row in filter_rows(load_catalog(catalog or []), framework=framework, family=family, task=task)
            if not verified or record.checks_for(row)]
    images = engine_image_tags()
    here = runs_here(rows, images, gpu_memory_gb())
    if as_json:
        listed = [{**row.model_dump(mode="json"),
                   "checks": [check.model_dump(mode="json") for check in record.checks_for(row)],
                   "unchecked_reason": record.reason_unchecked(row),
                   "runs_here": runs.as_json()} for row, runs in zip(rows, here, strict=True)]
        typer.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return

    from rich import box
    from rich.table import Table
    from rich.text import Text

    shown = "verified models" if verified else "models"
    columns = WIDE_COLUMNS if wide else COLUMNS
    table = Table(title=f"vlmbench model catalog ({len(rows)} {shown})", caption=CAPTION, header_style="bold",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
                  caption_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in NO_WRAP,
                         justify="right" if column == "GB" else "left")
    for row, runs in zip(rows, here, strict=True):
        cells = {"model": (row.model_name, ""), "family": (row.model_family, ""), "framework": (row.framework, ""),
                 "class": (row.class_path, ""), "weights": (row.weights or "", ""),
                 "tasks": (", ".join(row.tasks), ""),
                 "GB": (f"{row.gpu_memory_gb:g}" if row.gpu_memory_gb is not None else "", ""),
                 "image": _image_cell(row.docker_image, runs.image),
                 "checked": (verified_label(record.checks_for(row)), "") if record.checks_for(row) else ("—", "dim"),
                 "runs here": _runs_here_cell(runs)}
        table.add_row(*(Text(*cells[column]) for column in columns))
    console().print(table)


def register(app: typer.Typer) -> None:
    app.command(name="list-models", short_help="The model catalog, and which models run here.")(list_models)
