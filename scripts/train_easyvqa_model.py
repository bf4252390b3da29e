"""Train the tiny LLaVA that ships in vlmbench/data/models/easyvqa-tiny, from scratch, on CPU.

    python scripts/train_easyvqa_model.py --out vlmbench/data/models/easyvqa-tiny

Trains a byte-level BPE tokenizer on the easy-VQA train questions, then a
LLaVA (CLIP vision tower, Llama text model) on the train split: loss on
the answer tokens, plus a shape/colour target on the vision tower's class
token whose head is not saved (see vlmbench/training/attributes.py). Saves
the folder in hub layout, reloads it with AutoProcessor and
AutoModelForImageTextToText, and measures greedy-generation accuracy on
the whole test split against always giving the most frequent train
answer. Both go to metrics.json beside the weights.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing it

from vlmbench.training.loop import TrainSettings
from vlmbench.training.shipping import DTYPES
from vlmbench.training.tiny_llava import TinyLlavaSize


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    size, train = TinyLlavaSize(), TrainSettings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to (re)write with the model")
    parser.add_argument("--epochs", type=float, default=train.epochs)
    parser.add_argument("--seed", type=int, default=train.seed)
    parser.add_argument("--learning-rate", type=float, default=train.learning_rate)
    parser.add_argument("--images-per-batch", type=int, default=train.images_per_batch,
                        help="a batch holds every question of this many images (about ten each)")
    parser.add_argument("--patch-size", type=int, default=size.patch_size)
    parser.add_argument("--vision-hidden", type=int, default=size.vision_hidden)
    parser.add_argument("--vision-layers", type=int, default=size.vision_layers)
    parser.add_argument("--text-hidden", type=int, default=size.text_hidden)
    parser.add_argument("--text-layers", type=int, default=size.text_layers)
    parser.add_argument("--heads", type=int, default=size.heads)
    parser.add_argument("--dtype", choices=DTYPES, default="bfloat16", help="dtype of the saved weights")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch
    import transformers
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from vlmbench.training import easyvqa_data as data
    from vlmbench.training.evaluate import evaluate_split
    from vlmbench.training.loop import train
    from vlmbench.training.shipping import (
        TrainingMetrics,
        code_digest,
        git_state,
        save_model_folder,
        write_metrics,
    )
    from vlmbench.training.tiny_llava import build_model, build_processor, train_tokenizer

    if args.threads:
        torch.set_num_threads(args.threads)
    # Same seed, same machine, same result: CPU kernels are deterministic once asked to be.
    torch.use_deterministic_algorithms(True, warn_only=True)
    size = TinyLlavaSize(patch_size=args.patch_size, vision_hidden=args.vision_hidden,
                         vision_layers=args.vision_layers, text_hidden=args.text_hidden,
                         text_layers=args.text_layers, heads=args.heads)
    settings = TrainSettings(epochs=args.epochs, seed=args.seed, learning_rate=args.learning_rate,
                             images_per_batch=args.images_per_batch)

    train_split, test_split = data.load_split("train"), data.load_split("test")
    tokenizer = train_tokenizer(data.tokenizer_corpus(train_split), size.vocab_size)
    processor = build_processor(tokenizer, size)
    model = build_model(tokenizer, size, seed=args.seed)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"model: {parameters:,} parameters, vocabulary {len(tokenizer)}, {size.image_tokens} image tokens",
          flush=True)

    pixels = data.pixel_tensor(processor, train_split.image_paths)
    encoded = data.encode_questions(processor, train_split.questions, train_split.answers)
    seconds = train(model, train_split, encoded, pixels, tokenizer.pad_token_id, settings,
                    log=lambda line: print(line, flush=True))

    out = args.out.resolve()
    weights_bytes = save_model_folder(model, processor, out, args.dtype)
    # Measure what ships: the saved folder, loaded the way every user loads it.
    shipped = AutoModelForImageTextToText.from_pretrained(out)
    shipped_processor = AutoProcessor.from_pretrained(out)
    score, _ = evaluate_split(shipped, shipped_processor, test_split.image_paths, test_split.image_index,
                              test_split.questions, test_split.answers,
                              log=lambda line: print(line, flush=True))
    baseline_answer, _ = data.majority_answer(train_split.answers)
    baseline = sum(a == baseline_answer for a in test_split.answers) / len(test_split.answers)

    code = [Path(__file__).resolve(), *sorted((REPO / "vlmbench" / "training").glob("*.py"))]
    commit, dirty = git_state(REPO, code)
    write_metrics(out, TrainingMetrics(
        n=len(test_split.questions), accuracy=round(score, 4), baseline=round(baseline, 4),
        baseline_answer=baseline_answer, training_seconds=round(seconds, 1), epochs=settings.epochs,
        seed=settings.seed, parameters=parameters, weights_dtype=args.dtype, weights_bytes=weights_bytes,
        git_commit=commit, git_dirty=dirty, code_sha256=code_digest(code),
        command=shlex.join(["python", "scripts/train_easyvqa_model.py", *(argv or sys.argv[1:])]),
        torch_version=torch.__version__, transformers_version=transformers.__version__,
    ))
    print(f"test accuracy {score:.4f} on {len(test_split.questions)} questions; "
          f"majority baseline ({baseline_answer!r}) {baseline:.4f}; trained {seconds:.0f}s; "
          f"weights {weights_bytes / 1e6:.2f} MB ({args.dtype}) in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
