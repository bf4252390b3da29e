"""easy-VQA splits as tensors the tiny LLaVA trains on.

Images are preprocessed once by the model's own image processor and
questions are encoded once through its chat template and processor, so
training sees exactly the token ids and pixels that inference will.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

import torch
from PIL import Image

from vlmbench.errors import DatasetError
from vlmbench.training.tiny_llava import END, user_message


@dataclass
class EasyVqaSplit:
    """One split: parallel lists of questions and answers, and the index of each question's image."""

    questions: list[str]
    answers: list[str]
    image_index: list[int]  # into ``image_paths``
    image_paths: list[str]


def load_split(split: Literal["train", "test"]) -> EasyVqaSplit:
    """Read a split from the installed ``easy_vqa`` package."""
    try:
        import easy_vqa
    except ImportError:
        raise DatasetError("the easy-vqa package is not installed", hint="pip install easy-vqa") from None
    if split == "train":
        questions, answers, image_ids = easy_vqa.get_train_questions()
        paths = easy_vqa.get_train_image_paths()
    else:
        questions, answers, image_ids = easy_vqa.get_test_questions()
        paths = easy_vqa.get_test_image_paths()
    # easy_vqa keys its images by id; renumber them densely so tensors can be indexed by position.
    used = sorted(set(image_ids))
    position = {image_id: index for index, image_id in enumerate(used)}
    return EasyVqaSplit(list(questions), list(answers), [position[i] for i in image_ids],
                        [paths[i] for i in used])


def majority_answer(answers: list[str]) -> tuple[str, float]:
    """The most frequent answer and its share: the accuracy of always giving it."""
    answer, count = Counter(answers).most_common(1)[0]
    return answer, count / len(answers)


def pixel_tensor(processor, paths: list[str], chunk: int = 500) -> torch.Tensor:
    """All images of a split through the processor's image processor, as one (N, 3, H, W) tensor."""
    parts = []
    for start in range(0, len(paths), chunk):
        images = [Image.open(p).convert("RGB") for p in paths[start:start + chunk]]
        parts.append(processor.image_processor(images=images, return_tensors="pt")["pixel_values"])
    return torch.cat(parts)


def answer_text(answer: str) -> str:
    """What the model learns to write after the prompt.

    The leading space makes " circle" the very token the questions use, so
    the answer and the question share one embedding (they are tied): the
    model learns what "circle" looks like once, not twice. Callers strip it.
    """
    return f" {answer}{END}"


def tokenizer_corpus(split: EasyVqaSplit) -> list[str]:
    """The texts the tokenizer is trained on: every question and every answer as the model writes it."""
    return split.questions + [answer_text(a).removesuffix(END) for a in split.answers]


@dataclass
class EncodedQuestions:
    """Token ids of every distinct question's prompt (image tokens expanded) and of every answer."""

    prompt_ids: dict[str, list[int]]
    answer_ids: dict[str, list[int]]


def encode_questions(processor, questions: list[str], answers: list[str]) -> EncodedQuestions:
    """Encode each distinct question once, through the same path inference takes."""
    blank = Image.new("RGB", (processor.image_processor.crop_size["width"],) * 2)
    prompts: dict[str, list[int]] = {}
    for question in sorted(set(questions)):
        text = processor.apply_chat_template(user_message(question), add_generation_prompt=True, tokenize=False)
        prompts[question] = processor(text=[text], images=[blank], return_tensors="pt")["input_ids"][0].tolist()
    tokenizer = processor.tokenizer
    answer_ids = {a: tokenizer(answer_text(a), add_special_tokens=False)["input_ids"] for a in sorted(set(answers))}
    return EncodedQuestions(prompts, answer_ids)


@dataclass
class Batch:
    """A right-padded batch: the images it needs once each, and which image each row uses."""

    pixel_values: torch.Tensor  # (images, 3, H, W)
    images: torch.Tensor  # (images,) index of each into the split's images
    image_of_row: torch.Tensor  # (rows,) index into pixel_values
    input_ids: torch.Tensor  # (rows, length)
    attention_mask: torch.Tensor
    labels: torch.Tensor  # -100 except on answer tokens


def make_batch(rows: list[int], split: EasyVqaSplit, encoded: EncodedQuestions, pixels: torch.Tensor,
               pad_id: int) -> Batch:
    """Collate question rows into a batch; the loss falls only on the answer and its end token."""
    images = sorted({split.image_index[r] for r in rows})
    slot = {image: index for index, image in enumerate(images)}
    sequences, targets = [], []
    for r in rows:
        prompt, answer = encoded.prompt_ids[split.questions[r]], encoded.answer_ids[split.answers[r]]
        sequences.append(prompt + answer)
        targets.append([-100] * len(prompt) + answer)
    length = max(len(s) for s in sequences)
    input_ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), length), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    for i, (sequence, target) in enumerate(zip(sequences, targets, strict=True)):
        input_ids[i, :len(sequence)] = torch.tensor(sequence)
        labels[i, :len(target)] = torch.tensor(target)
        mask[i, :len(sequence)] = 1
    image_of_row = torch.tensor([slot[split.image_index[r]] for r in rows])
    return Batch(pixels[images], torch.tensor(images), image_of_row, input_ids, mask, labels)


def batches_by_image(split: EasyVqaSplit, images_per_batch: int, generator: torch.Generator) -> list[list[int]]:
    """Question rows grouped so that a batch holds every question of a few images.

    An image is then encoded once per batch instead of once per question
    (easy-VQA asks about ten questions of each image).
    """
    rows_of: dict[int, list[int]] = {}
    for row, image in enumerate(split.image_index):
        rows_of.setdefault(image, []).append(row)
    order = torch.randperm(len(split.image_paths), generator=generator).tolist()
    return [[row for image in order[start:start + images_per_batch] for row in rows_of.get(image, [])]
            for start in range(0, len(order), images_per_batch)]
