"""The training loop: AdamW on the answer tokens, one vision pass per image per batch."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
from pydantic import BaseModel, ConfigDict, Field

from vlmbench.training.attributes import COLORS, SHAPES, UNKNOWN, image_labels
from vlmbench.training.easyvqa_data import Batch, EasyVqaSplit, EncodedQuestions, batches_by_image, make_batch


class TrainSettings(BaseModel):
    """Optimisation settings; the defaults trained the shipped model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: float = Field(default=9.0, gt=0)
    images_per_batch: int = Field(default=12, ge=1)  # about ten questions each
    learning_rate: float = Field(default=2e-3, gt=0)
    weight_decay: float = Field(default=0.01, ge=0)
    warmup_steps: int = Field(default=50, ge=0)
    attribute_weight: float = Field(default=1.0, ge=0)  # of the shape/colour loss beside the answer loss
    flip: bool = True  # mirror images left-right at random: easy-VQA's shapes and colours survive it
    seed: int = 0


def batch_loss(model, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's own loss, and the vision tower's class token of each image in the batch.

    The loss is what ``model(input_ids, pixel_values, labels)`` computes when
    every row carries its own copy of its image, minus the repeated vision passes.
    """
    config = model.config
    features = model.model.get_image_features(
        pixel_values=batch.pixel_values, vision_feature_layer=config.vision_feature_layer,
        vision_feature_select_strategy=config.vision_feature_select_strategy,
    )
    per_row = torch.stack(list(features.pooler_output))[batch.image_of_row]
    embeds = model.get_input_embeddings()(batch.input_ids)
    slots = (batch.input_ids == config.image_token_id).unsqueeze(-1).expand_as(embeds)
    embeds = embeds.masked_scatter(slots, per_row.to(embeds.dtype))
    loss = model(inputs_embeds=embeds, attention_mask=batch.attention_mask, labels=batch.labels).loss
    return loss, features.hidden_states[config.vision_feature_layer][:, 0]


class AttributeHead(torch.nn.Module):
    """Shape and colour from the class token: a training aid, never saved."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.shape = torch.nn.Linear(hidden, len(SHAPES))
        self.color = torch.nn.Linear(hidden, len(COLORS))

    def loss(self, class_tokens: torch.Tensor, shapes: torch.Tensor, colors: torch.Tensor) -> torch.Tensor:
        cross_entropy = torch.nn.functional.cross_entropy
        return (cross_entropy(self.shape(class_tokens), shapes, ignore_index=UNKNOWN)
                + cross_entropy(self.color(class_tokens), colors, ignore_index=UNKNOWN))


def _schedule(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak rate."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def train(model, split: EasyVqaSplit, encoded: EncodedQuestions, pixels: torch.Tensor, pad_id: int,
          settings: TrainSettings, log: Callable[[str], None] = print) -> float:
    """Train ``model`` in place; return the wall time in seconds."""
    generator = torch.Generator().manual_seed(settings.seed)
    torch.manual_seed(settings.seed)
    per_epoch = math.ceil(len(split.image_paths) / settings.images_per_batch)
    total = math.ceil(settings.epochs * per_epoch)
    shapes, colors = (torch.tensor(labels) for labels in image_labels(
        split.questions, split.answers, split.image_index, len(split.image_paths)))
    head = AttributeHead(model.config.vision_config.hidden_size)
    parameters = [*model.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay, betas=(0.9, 0.98))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: _schedule(step, total, settings.warmup_steps))
    model.train()
    started = time.monotonic()
    step, running = 0, torch.zeros(2)
    while step < total:
        for rows in batches_by_image(split, settings.images_per_batch, generator):
            if step >= total:
                break
            batch = make_batch(rows, split, encoded, pixels, pad_id)
            if settings.flip:
                mirrored = torch.rand(len(batch.images), generator=generator) < 0.5
                batch.pixel_values[mirrored] = batch.pixel_values[mirrored].flip(-1)
            answer_loss, class_tokens = batch_loss(model, batch)
            attribute_loss = head.loss(class_tokens, shapes[batch.images], colors[batch.images])
            loss = answer_loss + settings.attribute_weight * attribute_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            now = torch.stack([answer_loss, attribute_loss]).detach()
            running = now if step == 1 else 0.98 * running + 0.02 * now
            if step % 50 == 0 or step == total:
                log(f"step {step}/{total} epoch {step / per_epoch:.2f} answer loss {running[0]:.4f} "
                    f"shape/colour loss {running[1]:.4f} "
                    f"lr {scheduler.get_last_lr()[0]:.2e} {time.monotonic() - started:.0f}s")
    model.eval()
    return time.monotonic() - started
