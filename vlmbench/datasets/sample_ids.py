"""Sample ids of an ``annotation.csv``, including VLMHyperBench's one-row-per-question files.

VLMHyperBench writes one row per question, so ``data_index`` (the image)
repeats: a passport image has seven rows, one per field. Its own runner
numbers rows by position, which changes when rows are sorted or inserted.
Here each question gets an id made of what it is, so the same question
keeps its id across reruns and reordered rows:

- ``data_index`` never repeats in the file: the id is the ``data_index``
  (one row per image, as vlmbench's own datasets are);
- ``data_index`` repeats anywhere in the file: every id is
  ``<data_index>:<question_type>``, or ``<data_index>:<question>`` where
  that image's question types are blank or not unique; a question asked
  twice of one image gets ``#2``, ``#3``, ... in file order;
- no ``data_index`` column: an ``id`` column as written, else the row number.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

from vlmbench.datasets.rows import RowError

Record = Mapping[str, str]  # one annotation row, cell by (lower-cased) column name


def _question_keys(records: Sequence[Record]) -> list[str]:
    """One key per question of one image: its question type where that tells it apart, else its text."""
    types = Counter(r.get("question_type", "").strip() for r in records)
    keys = []
    for record in records:
        question_type = record.get("question_type", "").strip()
        unique = question_type and types[question_type] == 1
        keys.append(question_type if unique else record["question"].strip())
    seen: Counter[str] = Counter()
    numbered = []
    for key in keys:
        seen[key] += 1
        numbered.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return numbered


def sample_ids(records: Sequence[tuple[int, Record]], id_column: str | None) -> dict[int, str | RowError]:
    """Each row number's sample id, or the RowError that row's id cell has (see the module docstring)."""
    if id_column is None:
        return {row: str(row) for row, _ in records}
    ids: dict[int, str | RowError] = {}
    groups: dict[str, list[tuple[int, Record]]] = defaultdict(list)
    for row, record in records:
        value = record[id_column].strip()
        if not value:
            hint = "give every row an id, or drop the column to number rows 1, 2, ..."
            ids[row] = RowError(f"empty {id_column}", hint, id_column)
        else:
            groups[value].append((row, record))
    per_question = id_column == "data_index" and any(len(group) > 1 for group in groups.values())
    for value, group in groups.items():
        if not per_question:
            ids.update((row, value) for row, _ in group)  # duplicates are the loader's to refuse
            continue
        keys = _question_keys([record for _, record in group])
        ids.update((row, f"{value}:{key}") for (row, _), key in zip(group, keys, strict=True))
    return ids
