"""The one "did you mean" helper: names close to one the user wrote.

Every closed vocabulary a user types into (models, model classes, metrics,
aggregators, datasets, prompt keys, files under the data root) is matched
here, on spellings that ignore case and separators, so "Exact-Match",
"exact_match" and "exactmatch" are one name and a near miss is found the
same way everywhere.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence


def spelling_key(name: str) -> str:
    """The form two spellings of one name share: ``Exact_Match`` → ``exactmatch``."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


def close_names(name: str, known: Sequence[str], aliases: Mapping[str, str] | None = None,
                cutoff: float = 0.6) -> list[str]:
    """Up to three known names close to ``name``; an alias counts as the name it stands for."""
    aliases = aliases or {}
    keys = {spelling_key(k): aliases.get(k, k) for k in [*known, *aliases]}
    close = difflib.get_close_matches(spelling_key(name), list(keys), n=3, cutoff=cutoff)
    return list(dict.fromkeys(keys[key] for key in close))


def did_you_mean(name: str, known: Sequence[str], aliases: Mapping[str, str] | None = None,
                 cutoff: float = 0.6) -> str:
    """"did you mean a or b?", or "" when no known name is close."""
    names = close_names(name, known, aliases, cutoff)
    return f"did you mean {' or '.join(names)}?" if names else ""


def suggest(name: str, known: Sequence[str], aliases: Mapping[str, str] | None = None) -> str:
    """A hint for a small vocabulary: the close names if any, then all of them."""
    return " ".join(filter(None, [did_you_mean(name, known, aliases), f"known: {', '.join(known)}"]))
