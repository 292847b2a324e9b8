"""`rlvr train --config configs/NAME.yaml [--set key=value ...] [--resume]`: RL-train a model."""

from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a model with GRPO/DAPO on an environment",
        description="Train a policy with RL on verifiable rewards. Every setting lives in the YAML config; "
                    "--set key=value overrides one (dotted keys, YAML values), e.g. --set train.lr=1e-5.",
    )
    p.add_argument("--config", required=True, help="YAML config, e.g. configs/demo.yaml")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (repeatable), e.g. --set algorithm.kl_coef=0.01")
    p.add_argument("--resume", action="store_true",
                   help="continue from the latest checkpoint in log.output_dir (exactly where it stopped)")
    p.set_defaults(func=run)


def run(args) -> int:
    from rlvr.trainers.config import ConfigError, load_config
    from rlvr.trainers.trainer import ResumeError, Trainer

    try:
        config = load_config(args.config, args.overrides)
        trainer = Trainer(config, resume=args.resume)
    except (ConfigError, ResumeError) as exc:
        print(f"rlvr train: {exc}", file=sys.stderr)
        return 2
    try:
        summary = trainer.train()
    finally:
        trainer.close()
    print(json.dumps(summary))
    return 0
