"""Train the small easy-VQA LLaVA that ships with vlmbench, and measure it.

    python scripts/train_easyvqa_model.py --out vlmbench/data/models/easyvqa-tiny [--epochs 4]

Prints the held-out accuracy next to the majority-answer baseline and
writes both, with the training settings, into OUT/training.json.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from vlmbench.training.easyvqa import TrainConfig, evaluate, train, write_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--eval-limit", type=int, default=None, help="test questions to score (default: all)")
    for field in fields(TrainConfig):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    args = parser.parse_args()
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    record = train(args.out, config)
    record["test"] = evaluate(args.out, limit=args.eval_limit)
    write_record(args.out, record)
    test = record["test"]
    print(f"easy-VQA test ({test['n']} questions): accuracy {test['accuracy']:.3f}, "
          f"majority answer {test['majority_answer']!r}: {test['majority_accuracy']:.3f}; "
          f"{record['parameters']:,} parameters, {record['train_seconds']:.0f} s of training")


if __name__ == "__main__":
    main()
