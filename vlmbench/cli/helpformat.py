"""How the commands' help names their arguments."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup


def _no_type(ctx: Any = None) -> None:
    return None


class WordsHelp(TyperGroup):
    """An argument is named by its metavar alone in help (`RUN_DIR`, not `RUN_DIR <list[Path]>`): a
    placeholder a user reads as a word, where typer would add the Python type."""

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        for param in getattr(command, "params", ()):
            if isinstance(param, TyperArgument) and param.metavar:
                param.display_type_rich = _no_type  # what get_help_record asks for the type label
        return command
