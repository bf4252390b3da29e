"""`vlmbench datasets ...`: list and make the bundled datasets, import peer formats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vlmbench.cli.helpformat import WordsHelp

app = typer.Typer(help="List and make the bundled datasets (offline); import peer formats.", no_args_is_help=True,
                  rich_markup_mode=None, cls=WordsHelp)


@app.command("list")
def list_datasets() -> None:
    """Show each bundled dataset, whether it is made, where it lives and how many samples it holds.

    Example: vlmbench datasets list
    """
    from rich.console import Console
    from rich.table import Table

    from vlmbench.datasets import BUNDLED, data_home, load_dataset

    table = Table(title=f"Bundled datasets (in {data_home()})")
    for column in ("name", "description", "made", "path", "samples"):
        table.add_column(column, justify="right" if column == "samples" else "left", overflow="fold")
    for name, bundled in BUNDLED.items():
        made = bundled.is_made()
        samples = str(len(load_dataset(bundled.path, name).samples)) if made else "-"
        table.add_row(name, bundled.description, "yes" if made else "no", str(bundled.path), samples)
    Console().print(table)


@app.command("make")
def make(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Bundled datasets to make.", metavar="NAME", show_default=False),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Make every bundled dataset.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Remake datasets that are already made.")] = False,
) -> None:
    """Make bundled datasets in the data folder ($VLMBENCH_DATA_DIR or ~/.cache/vlmbench/datasets).

    Example: vlmbench datasets make synthetic-docs-en easy-vqa
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from vlmbench.datasets import BUNDLED, get_bundled, load_dataset, make_bundled

    if all_:
        names = list(BUNDLED)
    if not names:
        raise typer.BadParameter("name at least one bundled dataset, or pass --all", param_hint="NAME")
    for name in names:
        get_bundled(name)  # every name checked before anything is made
    console = Console()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        for name in dict.fromkeys(names):
            if BUNDLED[name].is_made() and not force:
                progress.console.print(f"{name}: already made in {BUNDLED[name].path} (--force remakes it)")
                continue
            task = progress.add_task(name, total=None)

            def report(done: int, total: int, task: int = task) -> None:
                progress.update(task, completed=done, total=total)

            path = make_bundled(name, force=force, progress=report)
            count = len(load_dataset(path, name).samples)
            progress.console.print(f"{name}: {count} samples in {path}")


@app.command("import")
def import_command(
    kind: Annotated[str, typer.Argument(help="vlmevalkit-tsv, hf-parquet, hf-imagefolder", metavar="FORMAT")],
    source: Annotated[Path, typer.Argument(
        metavar="SOURCE", help="The TSV or parquet/arrow file, or the dataset's folder.")],
    target: Annotated[Path, typer.Argument(metavar="TARGET", help="Folder to write (annotations.jsonl + images/).")],
    split: Annotated[str | None, typer.Option("--split", metavar="NAME", help="Keep this split (file names, folders or a "
                                                                 "split column).")] = None,
    columns: Annotated[list[str] | None, typer.Option(
        "--map", metavar="FIELD=COLUMN",
        help="Take a sample field from another column (id, question, answer, answers, images, choices, "
             "doc_class, question_type, hint, split); repeatable; images=a,b for several.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace TARGET if it exists.")] = False,
) -> None:
    """Import a peer dataset format into a vlmbench dataset folder.

    Example: vlmbench datasets import vlmevalkit-tsv mmbench.tsv data/mmbench
    """
    from rich.console import Console

    from vlmbench.datasets import load_dataset
    from vlmbench.datasets.importers import import_dataset

    count = import_dataset(kind, source, target, force=force, split=split, columns=columns or [])
    load_dataset(target)  # what was written must load as any dataset does
    Console().print(f"[green]imported[/] {count} samples into {target}")
