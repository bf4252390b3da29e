"""`vlmbench pull-images` and `vlmbench build-images`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vlmbench.cli.models import CatalogOption


def pull_images(
    models: Annotated[list[str] | None, typer.Argument(help="Models whose images to pull.")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every image the catalog names.")] = False,
    config: Annotated[Path | None, typer.Option(help="The images this run CSV needs.")] = None,
    catalog: CatalogOption = None,
) -> None:
    """Pull the images that models, a run CSV or the whole catalog need, with per-layer progress."""
    from vlmbench.catalog import load_catalog
    from vlmbench.docker.pull import pull_images as pull
    from vlmbench.docker.selection import images_to_pull

    images = images_to_pull(load_catalog(catalog or []), models or [], everything, config)
    results = pull(images)
    table = Table(title=f"{len(results)} image(s)", header_style="bold")
    for column in ("image", "result"):
        table.add_column(column, overflow="fold")
    for result in results:
        outcome = f"[green]pulled[/] {result.digest or ''}" if result.ok else f"[red]failed:[/] {escape(result.error)}"
        table.add_row(result.image, outcome)
    Console(soft_wrap=True).print(table)
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


def build_images(
    names: Annotated[list[str] | None, typer.Argument(help="Images to build: cpu, transformers-gpu, vllm, "
                                                            "vllm-cpu [default: all].")] = None,
    base: Annotated[str | None, typer.Option(help="BASE_IMAGE to build on [default: for cpu and vllm-cpu, "
                                                  "vlmbench/base:bookworm when present; else the "
                                                  "Dockerfile's].")] = None,
) -> None:
    """Build the project's own images from images/ (tags vlmbench/<name>:<version>)."""
    from vlmbench.docker.build import build_images as build
    from vlmbench.docker.context import dockerfile_dir

    for name in names or []:
        dockerfile_dir(name)  # an unknown name stops everything before the first build
    results = build(names or [], base_image=base)
    console = Console(soft_wrap=True)
    for result in results:
        if result.ok:
            console.print(f"[green]built[/] {result.tag} ({result.image_id[:19]}, {result.seconds:.0f} s)")
        else:
            console.print(f"[red]failed[/] {result.tag}: {escape(result.error)}")
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


def register(app: typer.Typer) -> None:
    app.command(name="pull-images")(pull_images)
    app.command(name="build-images")(build_images)
