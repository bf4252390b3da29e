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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    catalog: CatalogOption = None,
) -> None:
    """The model catalog, with which images are present locally."""
    from vlmbench.catalog import load_catalog
    from vlmbench.frameworks import canonical_framework

    rows = [row for row in load_catalog(catalog or [])
            if (framework is None or row.framework == canonical_framework(framework))
            and (family is None or row.model_family.lower() == family.lower())]
    if as_json:
        typer.echo(json.dumps([row.model_dump(mode="json") for row in rows], indent=2, ensure_ascii=False))
        return
    present = local_images()
    table = Table(title=f"vlmbench model catalog ({len(rows)} models)", header_style="bold")
    for column in ("model", "family", "framework", "class", "weights", "GPU GB", "tasks", "image"):
        table.add_column(column, overflow="fold")
    for row in rows:
        if not row.docker_image:
            image = "[dim]—[/]"
        elif present is None:
            image = f"{row.docker_image} [dim](engine?)[/]"
        else:
            mark = "[green]✓[/]" if row.docker_image in present else "[yellow]✗ pull[/]"
            image = f"{row.docker_image} {mark}"
        table.add_row(row.model_name, row.model_family, row.framework, row.class_path, row.weights or "",
                      f"{row.gpu_memory_gb:g}" if row.gpu_memory_gb is not None else "",
                      ", ".join(row.tasks), image)
    console().print(table)


def register(app: typer.Typer) -> None:
    app.command(name="list-models")(list_models)
