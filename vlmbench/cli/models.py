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
    wide: Annotated[bool, typer.Option("--wide", help="Also each row's class, weights, tasks and image.")] = False,
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
    caption = ("checked: cpu = a tiny model of the family in the framework's CPU image;\n"
               "image = in the row's own image; gpu = the CUDA path run on a GPU")
    if not wide:
        caption = "image: ✓ present here, pull = not yet (--wide names it)\n" + caption
    table = Table(title=f"vlmbench model catalog ({len(rows)} {shown})", header_style="bold", caption=caption)
    # 80 columns hold the names, the framework and the two marks; --wide adds the rest.
    columns = (["model", "family", "framework", "class", "weights", "tasks", "GB", "image", "checked"] if wide
               else ["model", "family", "framework", "GB", "image", "checked"])
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in ("framework", "GB", "checked"))
    for row in rows:
        if not row.docker_image:
            image = "[dim]—[/]"
        else:
            mark = ("[dim]?[/]" if present is None else "[green]✓[/]" if row.docker_image in present
                    else "[yellow]pull[/]")
            image = f"{row.docker_image} {mark}" if wide else mark
        cells = {"model": row.model_name, "family": row.model_family, "framework": row.framework,
                 "class": row.class_path, "weights": row.weights or "", "tasks": ", ".join(row.tasks),
                 "GB": f"{row.gpu_memory_gb:g}" if row.gpu_memory_gb is not None else "", "image": image,
                 "checked": verified_label(record.checks_for(row)) or "[dim]—[/]"}
        table.add_row(*(cells[column] for column in columns))
    console().print(table)


def register(app: typer.Typer) -> None:
    app.command(name="list-models")(list_models)
