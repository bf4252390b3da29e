"""The shape and colour of each easy-VQA image, read off its training questions.

Learning shapes from the answer tokens alone stalls at chance in a model
this small (the answer's gradient reaches the vision tower through two
text layers and 64 mostly blank patches). So training adds a second,
auxiliary target: the vision tower's class token must predict the image's
shape and colour, through a linear head that is thrown away afterwards.
The labels come from the same training annotations, nothing else:
every easy-VQA image shows exactly one shape of one colour, and its
questions name them.
"""

from __future__ import annotations

import re

SHAPES = ("circle", "rectangle", "triangle")
COLORS = ("red", "green", "blue", "black", "gray", "teal", "brown", "yellow")
UNKNOWN = -100  # cross-entropy's ignore_index
_NEGATION = re.compile(r"\b(not|no)\b")


def _words(question: str) -> set[str]:
    return set(re.findall(r"[a-z]+", question.lower()))


def facts(question: str, answer: str) -> tuple[str | None, str | None]:
    """(shape, colour) that a question and its answer establish about the image; None where neither says.

    "what color is the circle? red" gives both; "is there not a red shape? no"
    gives red; "is there a circle? no" gives nothing (only what it is not).
    """
    words = _words(question)
    shape = next((s for s in SHAPES if s in words), None)
    color = next((c for c in COLORS if c in words), None)
    if answer in SHAPES:
        return answer, color
    if answer in COLORS:
        return shape, answer
    present = (answer == "yes") != bool(_NEGATION.search(question.lower()))
    return (shape, color) if present else (None, None)


def image_labels(questions: list[str], answers: list[str], image_index: list[int],
                 images: int) -> tuple[list[int], list[int]]:
    """Per image, the index of its shape in SHAPES and of its colour in COLORS (UNKNOWN if no question says).

    Questions that contradict each other would be a bug in the parsing above, so they raise.
    """
    shape_of: list[int] = [UNKNOWN] * images
    color_of: list[int] = [UNKNOWN] * images
    for question, answer, image in zip(questions, answers, image_index, strict=True):
        shape, color = facts(question, answer)
        for value, names, labels in ((shape, SHAPES, shape_of), (color, COLORS, color_of)):
            if value is None:
                continue
            label = names.index(value)
            if labels[image] not in (UNKNOWN, label):
                raise ValueError(f"image {image}: {question!r} -> {answer!r} contradicts an earlier question")
            labels[image] = label
    return shape_of, color_of
