"""`vlmbench pull-images` and `vlmbench build-images`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vlmbench.cli.models import CatalogOption


def pull_images(
    models: Annotated[list[str] | None, typer.Argument(metavar="MODEL", help="Models whose images to pull.")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every image the catalog names.")] = False,
    config: Annotated[Path | None, typer.Option(metavar="CONFIG", help="The images this run CSV needs.")] = None,
    catalog: CatalogOption = None,
) -> None:
    """Pull the images that models, a run CSV or the whole catalog need, with per-layer progress.

    Example: vlmbench pull-images --config configs/demo.csv
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

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
    names: Annotated[list[str] | None, typer.Argument(
        metavar="NAME", help="Images to build: cpu, vllm-cpu, transformers-gpu, vllm (default: all of them).")] = None,
    base: Annotated[str | None, typer.Option(
        metavar="IMAGE", help="BASE_IMAGE to build on.  [default: vlmbench/base:bookworm when present, else the "
                              "Dockerfile's]")] = None,
) -> None:
    """Build the project's own images from images/ and their lock files (tags vlmbench/<name>:<version>).

    Each built image's id, lock hash, size and build time are recorded in image-builds.json in the data home.

    Example: vlmbench build-images cpu --base vlmbench/base:bookworm
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from vlmbench.docker.build import build_images as build
    from vlmbench.docker.build import record_builds
    from vlmbench.docker.context import dockerfile_dir

    for name in names or []:
        dockerfile_dir(name)  # an unknown name stops everything before the first build
    results = build(names or [], base_image=base)
    recorded = record_builds(results)
    table = Table(title=f"{len(results)} image(s), recorded in {recorded}", header_style="bold")
    for column, justify in (("image", "left"), ("result", "left"), ("image id", "left"),
                            ("lock (sha256)", "left"), ("size", "right"), ("seconds", "right")):
        table.add_column(column, overflow="fold", justify=justify)
    for result in results:
        lock = f"{result.lock} ({result.lock_sha256[:12]})" if result.lock else ""
        if result.ok:
            # Short like `docker images` shows it; the record holds the whole id.
            table.add_row(result.tag, "[green]built[/]", (result.image_id or "")[:19], lock,
                          f"{result.size / 1e9:.2f} GB", f"{result.seconds:.0f}")
        else:
            table.add_row(result.tag, "[red]failed[/]", "", lock, "", f"{result.seconds:.0f}")
    console = Console(soft_wrap=True)
    console.print(table)
    for result in results:
        if not result.ok:
            console.print(f"[red]failed[/] {result.tag}: {escape(result.error or '')}")
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


def register(app: typer.Typer) -> None:
    app.command(name="pull-images", short_help="Pull the images that models or a run CSV need.")(pull_images)
    app.command(name="build-images", short_help="Build the project's own images from images/.")(build_images)
