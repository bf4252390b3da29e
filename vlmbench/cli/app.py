"""The `vlmbench` command: thin commands over the library.

A user's mistake (any VlmbenchError) prints one line per problem and exits
with code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import click
import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from vlmbench.errors import VlmbenchError

stderr = Console(stderr=True, soft_wrap=True)


class FriendlyErrors(TyperGroup):
    """Turns VlmbenchError from any subcommand into lines on stderr and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VlmbenchError as exc:
            for line in exc.lines():
                stderr.print(f"[bold red]error:[/] {escape(line)}", highlight=False)  # user text: no regexes
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=FriendlyErrors,
    help="vlmbench: benchmark vision-language models, one container per model family.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _compose() -> None:
    from vlmbench.cli import cleanup, datasets, export, images, models, run, status, worker

    for module in (run, status, models, images, worker, export, cleanup):
        module.register(app)
    app.add_typer(datasets.app, name="datasets", help="List, make and import datasets.")


_compose()


def main() -> None:
    app()
