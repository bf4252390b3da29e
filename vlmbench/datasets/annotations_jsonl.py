"""``annotations.jsonl``: one JSON object per line, read into row fields.

Peer formats differ in small ways (a lone ``image``, numeric ids, answers
that are JSON objects); each is accepted rather than rejected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlmbench.csvfiles import MAX_JSON_DEPTH, too_deep
from vlmbench.datasets.rows import Fields, RowError, Rows, read_text, strings


def _as_text(value: Any) -> str:
    # A JSONL answer may be a number or a whole JSON object (field extraction).
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _jsonl_fields(line: str, lineno: int) -> Fields:
    try:
        obj = json.loads(line)
        deep = too_deep(obj)
    except ValueError as exc:  # a JSONDecodeError, or a number of more than 4300 digits
        where = f"{exc.msg} at character {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise RowError(
            f"not valid JSON: {where}",
            'write one JSON object per line: {"id": "1", "images": ["a.png"], "question": "...", '
            '"answer": "..."}',
        ) from None
    except RecursionError:
        deep = True
    if deep:
        raise RowError(f"JSON nested more than {MAX_JSON_DEPTH} deep", "keep answers and metadata a few levels deep")
    if not isinstance(obj, dict):
        raise RowError(f"a JSON {type(obj).__name__}, not an object", "write one JSON object per line")
    for key in ("question", "answer"):
        if obj.get(key) is None:
            raise RowError(f"missing key {key!r}", "every line needs a question and an answer", key)
    images = obj.pop("images", None)
    if images is None:  # a lone "image" is common enough in peer formats to accept
        images = obj.pop("image", [])
    metadata = obj.pop("metadata", None)
    metadata = (
        dict(metadata) if isinstance(metadata, dict) else {} if metadata is None else {"metadata": metadata}
    )
    sample_id = obj.pop("id", None)
    fields: Fields = {
        "id": str(lineno) if sample_id is None else _as_text(sample_id),
        "question": _as_text(obj.pop("question")),
        "answer": _as_text(obj.pop("answer")),
        "images": strings([images] if isinstance(images, str) else images, "images"),
        "choices": strings(obj.pop("choices", None) or [], "choices"),
    }
    for key in ("split", "doc_class", "question_type"):
        value = obj.pop(key, None)
        fields[key] = None if value is None else str(value)
    fields["metadata"] = {**metadata, **obj}
    return fields


def jsonl_rows(path: Path) -> Rows:
    """Objects of an ``annotations.jsonl``, numbered by file line (blank lines skipped, still counted)."""
    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            yield lineno, _jsonl_fields(line, lineno)
        except RowError as exc:
            yield lineno, exc
