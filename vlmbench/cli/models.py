"""`vlmbench list-models`: the catalog as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vlmbench.cli.console import console

CatalogOption = Annotated[list[Path] | None, typer.Option("--catalog", help="Extra models.csv (repeatable).")]


def local_images() -> set[str] | None:
    """Tags of images the local Docker Engine holds; None when no engine answers."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        return {tag for image in client.images.list() for tag in image.tags}
    except Exception:  # noqa: BLE001 - no engine, no socket, no permission: all mean "unknown"
        return None


def list_models(
    framework: Annotated[str | None, typer.Option(
        help="Only this framework (ours, or a peer's spelling such as 'Hugging Face').")] = None,
    family: Annotated[str | None, typer.Option(help="Only this model family.")] = None,
    verified: Annotated[bool, typer.Option(
        "--verified", help="Only rows whose family a check has proven (see the 'checked' column).")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Also the class and weights of each row.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    catalog: CatalogOption = None,
) -> None:
    """The model catalog: which images are present locally, and what has been checked of each row.

    'checked' names where a tiny model of the row's architecture passed the
    conformance checks: cpu (through the row's framework in its CPU image),
    image (the row's own image built from the same lock), gpu (the CUDA path
    on a GPU); the record is vlmbench/data/verification.json.
    """
    from vlmbench.catalog import load_catalog
    from vlmbench.frameworks import canonical_framework
    from vlmbench.verification import load_verification, verified_label

    record = load_verification()
    rows = [row for row in load_catalog(catalog or [])
            if (framework is None or row.framework == canonical_framework(framework))
            and (family is None or row.model_family.lower() == family.lower())
            and (not verified or record.checks_for(row))]
    if as_json:
        listed = [{**row.model_dump(mode="json"),
                   "checks": [check.model_dump(mode="json") for check in record.checks_for(row)],
                   "unchecked_reason": record.reason_unchecked(row)} for row in rows]
        typer.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    present = local_images()
    shown = "verified models" if verified else "models"
    table = Table(title=f"vlmbench model catalog ({len(rows)} {shown})", header_style="bold",
                  caption="checked: cpu = a tiny model of its architecture in the CPU image;\n"
                          "image = its own image built from the same lock; gpu = run on a GPU")
    columns = ["model", "family", "framework", "tasks", "GB", "image", "checked"]
    if wide:
        columns[3:3] = ["class", "weights"]
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        if not row.docker_image:
            image = "[dim]—[/]"
        elif present is None:
            image = f"{row.docker_image} [dim](engine?)[/]"
        else:
            mark = "[green]✓[/]" if row.docker_image in present else "[yellow]✗ pull[/]"
            image = f"{row.docker_image} {mark}"
        cells = [row.model_name, row.model_family, row.framework, ", ".join(row.tasks),
                 f"{row.gpu_memory_gb:g}" if row.gpu_memory_gb is not None else "",
                 image, verified_label(record.checks_for(row)) or "[dim]—[/]"]
        if wide:
            cells[3:3] = [row.class_path, row.weights or ""]
        table.add_row(*cells)
    console().print(table)


def register(app: typer.Typer) -> None:
    app.command(name="list-models")(list_models)
