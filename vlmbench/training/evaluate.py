"""Accuracy of greedily generated answers, through the processor and ``generate`` as any user runs them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from PIL import Image

from vlmbench.training.tiny_llava import user_message


def generate_answers(model, processor, images: Sequence[Image.Image], questions: Sequence[str],
                     batch_size: int = 128, max_new_tokens: int = 4) -> list[str]:
    """One greedy answer per (image, question), batched with left padding."""
    processor.tokenizer.padding_side = "left"
    answers: list[str] = []
    for start in range(0, len(questions), batch_size):
        chunk = questions[start:start + batch_size]
        texts = [processor.apply_chat_template(user_message(q), add_generation_prompt=True, tokenize=False)
                 for q in chunk]
        inputs = processor(text=texts, images=list(images[start:start + batch_size]), padding=True,
                           return_tensors="pt")
        with torch.inference_mode():
            output = model.generate(**inputs, do_sample=False, max_new_tokens=max_new_tokens)
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        answers += [text.strip() for text in processor.batch_decode(new_tokens, skip_special_tokens=True)]
    return answers


def accuracy(predicted: Sequence[str], expected: Sequence[str]) -> float:
    """Exact-match share, ignoring case and surrounding blanks."""
    if len(predicted) != len(expected):
        raise ValueError(f"{len(predicted)} answers for {len(expected)} questions")
    hits = sum(p.strip().lower() == e.strip().lower() for p, e in zip(predicted, expected, strict=True))
    return hits / len(expected)


def evaluate_split(model, processor, image_paths: Sequence[str], image_index: Sequence[int],
                   questions: Sequence[str], answers: Sequence[str], batch_size: int = 256,
                   log: Callable[[str], None] = print) -> tuple[float, list[str]]:
    """Accuracy on a whole split, and the generated answers."""
    loaded = [Image.open(p).convert("RGB") for p in image_paths]
    predicted: list[str] = []
    for start in range(0, len(questions), batch_size * 8):
        stop = min(len(questions), start + batch_size * 8)
        predicted += generate_answers(model, processor, [loaded[i] for i in image_index[start:stop]],
                                      questions[start:stop], batch_size)
        log(f"evaluated {stop}/{len(questions)}")
    return accuracy(predicted, answers), predicted
