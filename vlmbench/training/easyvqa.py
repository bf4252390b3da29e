"""Train a small LLaVA on easy-VQA, on the CPU, so the demo has a model that really answers.

The model is a real `LlavaForConditionalGeneration` (a CLIP vision tower
and a Llama text model, both tiny) with a BPE tokenizer trained on the
easy-VQA questions, the LLaVA chat template and processor: it loads with
AutoProcessor + AutoModelForImageTextToText like any hub checkpoint, and
answers by generating the answer word. The loss is on the answer tokens
only. Everything is seeded; reproduce the shipped model with

    python scripts/train_easyvqa_model.py --out vlmbench/data/models/easyvqa-tiny
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IMAGE_SIZE = 64
PATCH = 8
IMAGE_TOKENS = (IMAGE_SIZE // PATCH) ** 2


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 6
    batch_size: int = 64
    lr: float = 2e-3
    warmup_steps: int = 100
    vision_hidden: int = 96
    vision_layers: int = 3
    text_hidden: int = 128
    text_layers: int = 2
    vocab_size: int = 400
    seed: int = 0
    threads: int = 2


def _samples(name: str) -> tuple[list[Any], Path]:
    from vlmbench.datasets import load_dataset, make_bundled

    dataset = load_dataset(make_bundled(name))
    return dataset.samples, dataset.root


def build_untrained(config: TrainConfig, corpus: list[str]) -> tuple[Any, Any]:
    """A fresh LLaVA and its processor, with a tokenizer trained on `corpus`."""
    import torch
    import transformers as tf

    from vlmbench.testing.tiny_models import _LLAVA_ROLES, _LLAVA_TEMPLATE, train_tokenizer

    specials = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
    tokenizer = tf.TokenizersBackend(
        tokenizer_object=train_tokenizer(specials, "<s>", config.vocab_size, corpus),
        extra_special_tokens={"image_token": "<image>"},
        **{role: token for role, token in _LLAVA_ROLES.items() if role != "image_token"})
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in specials}
    torch.manual_seed(config.seed)
    vision = tf.CLIPVisionConfig(hidden_size=config.vision_hidden, intermediate_size=2 * config.vision_hidden,
                                 num_hidden_layers=config.vision_layers, num_attention_heads=4,
                                 image_size=IMAGE_SIZE, patch_size=PATCH)
    text = tf.LlamaConfig(vocab_size=len(tokenizer), hidden_size=config.text_hidden,
                          intermediate_size=2 * config.text_hidden, num_hidden_layers=config.text_layers,
                          num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
                          bos_token_id=ids["<s>"], eos_token_id=ids["</s>"], pad_token_id=ids["<pad>"])
    model_config = tf.LlavaConfig(vision_config=vision, text_config=text, image_token_index=ids["<image>"],
                                  image_seq_length=IMAGE_TOKENS, vision_feature_select_strategy="default",
                                  vision_feature_layer=-1)
    images = tf.CLIPImageProcessorPil(size={"shortest_edge": IMAGE_SIZE},
                                      crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    processor = tf.LlavaProcessor(images, tokenizer, patch_size=PATCH, vision_feature_select_strategy="default",
                                  num_additional_image_tokens=1, chat_template=_LLAVA_TEMPLATE)
    model = tf.LlavaForConditionalGeneration(model_config)
    model.generation_config.pad_token_id = ids["<pad>"]
    model.generation_config.eos_token_id = ids["</s>"]
    return model, processor


def _prompt(processor: Any, question: str) -> str:
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
    return processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def encode(processor: Any, samples: list[Any], root: Path) -> tuple[Any, list[list[int]], list[int], list[int]]:
    """Pixel values per image, token ids per sample (image token expanded), answer start, image index."""
    import torch
    from PIL import Image

    tokenizer = processor.tokenizer
    image_token = tokenizer.convert_tokens_to_ids("<image>")
    paths = sorted({s.images[0] for s in samples})
    index_of = {path: i for i, path in enumerate(paths)}
    pixels = []
    for start in range(0, len(paths), 512):
        batch = [Image.open(root / p).convert("RGB") for p in paths[start:start + 512]]
        pixels.append(processor.image_processor(batch, return_tensors="pt")["pixel_values"])
    sequences, answer_starts, image_index = [], [], []
    for sample in samples:
        prompt = tokenizer(_prompt(processor, sample.question))["input_ids"]
        at = prompt.index(image_token)
        prompt = prompt[:at] + [image_token] * IMAGE_TOKENS + prompt[at + 1:]
        answer = tokenizer(" " + sample.answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        sequences.append(prompt + answer)
        answer_starts.append(len(prompt))
        image_index.append(index_of[sample.images[0]])
    return torch.cat(pixels), sequences, answer_starts, image_index


def _batch(indices: list[int], sequences: list[list[int]], starts: list[int], pad: int) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(sequences[i]) for i in indices)
    ids = torch.full((len(indices), width), pad)
    mask = torch.zeros((len(indices), width), dtype=torch.long)
    labels = torch.full((len(indices), width), -100)
    for row, i in enumerate(indices):
        seq = torch.tensor(sequences[i])
        ids[row, :len(seq)] = seq
        mask[row, :len(seq)] = 1
        labels[row, starts[i]:len(seq)] = seq[starts[i]:]
    return ids, mask, labels


def train(out: Path, config: TrainConfig = TrainConfig(), log=print) -> dict[str, Any]:
    """Train, save to `out` (Hugging Face format) and return the training record."""
    import torch

    torch.set_num_threads(config.threads)
    random.seed(config.seed)
    started = time.perf_counter()
    train_samples, train_root = _samples("easy-vqa-train")
    corpus = [f"USER: {s.question} ASSISTANT: {s.answer}" for s in train_samples[:5000]]
    model, processor = build_untrained(config, corpus)
    pixels, sequences, starts, image_index = encode(processor, train_samples, train_root)
    pad = processor.tokenizer.pad_token_id
    steps_per_epoch = len(sequences) // config.batch_size
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / config.warmup_steps)
                                                 * 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
    model.train()
    order = list(range(len(sequences)))
    step = 0
    for epoch in range(config.epochs):
        random.shuffle(order)
        running = 0.0
        for first in range(0, steps_per_epoch * config.batch_size, config.batch_size):
            chosen = order[first:first + config.batch_size]
            ids, mask, labels = _batch(chosen, sequences, starts, pad)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels,
                         pixel_values=pixels[[image_index[i] for i in chosen]]).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            running += loss.item()
            step += 1
            if step % 100 == 0:
                log(f"epoch {epoch + 1} step {step}/{total} loss {running / 100:.4f} "
                    f"({time.perf_counter() - started:.0f} s)")
                running = 0.0
    model.eval()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    for file in out.iterdir():
        file.chmod(0o644)  # safetensors writes owner-only files; containers read them as another user
    record = {"config": config.__dict__, "train_samples": len(sequences), "steps": step,
              "train_seconds": round(time.perf_counter() - started, 1),
              "parameters": sum(p.numel() for p in model.parameters())}
    return record


def evaluate(folder: Path, limit: int | None = None, batch_size: int = 64) -> dict[str, Any]:
    """Accuracy on the easy-VQA test split through vlmbench's transformers adapter, and the majority baseline."""
    from collections import Counter

    from vlmbench.datasets import load_image
    from vlmbench.metrics import normalize_answer
    from vlmbench.models.base import Request
    from vlmbench.registry import resolve_model_class

    train_samples, _ = _samples("easy-vqa-train")
    majority = Counter(s.answer for s in train_samples).most_common(1)[0][0]
    samples, root = _samples("easy-vqa")
    samples = samples[:limit] if limit else samples
    model = resolve_model_class("hf")(weights=str(folder), dtype="float32", max_batch_size=batch_size)
    correct = baseline = 0
    for first in range(0, len(samples), batch_size):
        batch = samples[first:first + batch_size]
        answers = model.generate([Request(prompt=s.question, images=[load_image(root, s.images[0])]) for s in batch])
        correct += sum(normalize_answer(a) == normalize_answer(s.answer) for a, s in zip(answers, batch, strict=True))
        baseline += sum(s.answer == majority for s in batch)
    model.close()
    return {"n": len(samples), "accuracy": round(correct / len(samples), 4),
            "majority_answer": majority, "majority_accuracy": round(baseline / len(samples), 4)}


def write_record(folder: Path, record: dict[str, Any]) -> None:
    (Path(folder) / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
