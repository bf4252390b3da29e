"""easy-VQA (the ``easy-vqa`` package) as a dataset folder.

The package keeps its images in site-packages; they are copied into the
dataset folder because image paths may not leave it (and a container that
mounts only the folder would not see site-packages of the host).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from vlmbench.datasets.annotation_csv import write_annotation_csv
from vlmbench.errors import DatasetError
from vlmbench.fileio import write_atomic

SHAPES = frozenset({"circle", "rectangle", "triangle"})
YES_NO = frozenset({"yes", "no"})
DOC_CLASS = "easy-vqa"


def question_type(answer: str) -> str:
    """``shape``, ``yes_no`` or ``color``: every other easy-VQA answer is a colour."""
    if answer in SHAPES:
        return "shape"
    if answer in YES_NO:
        return "yes_no"
    return "color"


def write_easy_vqa(
    target: Path,
    split: Literal["test", "train"] = "test",
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write annotation.csv and images/ for one easy-VQA split into ``target``; return the sample count."""
    try:
        import easy_vqa
    except ImportError:
        raise DatasetError("the easy-vqa package is not installed", hint="pip install easy-vqa") from None
    if split == "test":
        questions, answers, image_ids = easy_vqa.get_test_questions()
        image_paths = easy_vqa.get_test_image_paths()
    elif split == "train":
        questions, answers, image_ids = easy_vqa.get_train_questions()
        image_paths = easy_vqa.get_train_image_paths()
    else:
        raise ValueError(f"easy-VQA has splits 'test' and 'train', not {split!r}")

    target = Path(target)
    (target / "images").mkdir(parents=True, exist_ok=True)
    used = sorted(set(image_ids))
    for done, image_id in enumerate(used, 1):
        shutil.copyfile(image_paths[image_id], target / "images" / f"{image_id}.png")
        if progress:
            progress(done, len(used))

    rows = [
        [
            index,
            split,
            f"images/{image_id}.png",
            question,
            answer,
            DOC_CLASS,
            question_type(answer),
            "",
            image_id,
        ]
        for index, (question, answer, image_id) in enumerate(zip(questions, answers, image_ids, strict=True))
    ]
    # The answer vocabulary, for models that classify rather than generate.
    write_atomic(target / "answers.txt", "\n".join(easy_vqa.get_answers()) + "\n")
    write_annotation_csv(target, rows, ["image_id"])
    return len(questions)
