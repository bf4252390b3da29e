"""The `vlmbench` command: thin commands over the library.

A user's mistake (any VlmbenchError) prints one line per problem and exits
with code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from vlmbench.cli.helpformat import WordsHelp
from vlmbench.errors import VlmbenchError
from vlmbench.process_exit import exit_now, only_thread_left

# Start-up time is part of the interface (`--help` in 0.2 s): rich, pydantic, pandas and the docker SDK are
# imported inside the commands that use them, and help is click's plain text. typer's rich help alone
# imports rich.markdown and markdown-it, more than the whole budget.
MARKUP = None


class FriendlyErrors(WordsHelp):
    """Turns VlmbenchError from any subcommand into lines on stderr and exit code 2."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except VlmbenchError as exc:
            from rich.console import Console
            from rich.markup import escape

            stderr = Console(stderr=True, soft_wrap=True)
            for line in exc.lines():
                stderr.print(f"[bold red]error:[/] {escape(line)}", highlight=False)  # user text: no regexes
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=FriendlyErrors,
    help="vlmbench: benchmark vision-language models, one container per model family.\n\n"
         "Example: vlmbench run configs/demo.csv --out runs/demo",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=MARKUP,
)


def _print_version(value: bool) -> None:
    if value:
        from vlmbench import __version__

        typer.echo(f"vlmbench {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Options before any command (the app's help is Typer's `help` above)."""


def _compose() -> None:
    from vlmbench.cli import cleanup, compare, datasets, export, images, models, run, status, worker

    for module in (run, status, models, images, worker, export, compare, cleanup):
        module.register(app)
    app.add_typer(datasets.app, name="datasets", help="List, make and import datasets.\n\n"
                                                      "Example: vlmbench datasets make --all")


_compose()


def main() -> None:
    try:
        app()
    except SystemExit as done:
        # Everything a command writes is closed when it returns: the interpreter's teardown (0.15 s once
        # pandas and matplotlib are loaded) is skipped. A message as the exit code takes the usual way.
        if (done.code is None or isinstance(done.code, int)) and only_thread_left():
            exit_now(done.code or 0)
        raise
