"""`rlvr demo`: the project's headline run (what `make demo` does), on a CPU in a few minutes."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="warm up a tiny model, train it with DAPO and show held-out pass@1 before/after",
        description="Build a tiny transformer and tokenizer locally, warm it up with a short supervised phase, "
                    "train it with DAPO on a procedural task and print held-out pass@1 before and after RL. "
                    "Writes runs/demo/summary.json, metrics.jsonl, TensorBoard logs and curves.png. Exit status as "
                    "`rlvr train`'s: 0 done; 1 done, but an evaluation failed; 2 a bad config or option; 3 verification "
                    "kept failing for infrastructure reasons.",
    )
    p.add_argument("--config", default=None, help="demo config (default: configs/demo.yaml, installed with rlvr)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set train.total_steps=50")
    p.add_argument("--output-dir", default="runs/demo", help="where results go (default runs/demo)")
    p.add_argument("--quick", action="store_true", help="a shortened run for smoke tests: the full warm-up, then 100 RL steps and 100 evaluation problems (about 3 minutes on 2 cores)")
    p.set_defaults(func=run)


def run(args) -> int:
    from rlvr.commands.train import EXIT_INFRASTRUCTURE, finished_status
    from rlvr.trainers.config import ConfigError
    from rlvr.trainers.demo import run_demo
    from rlvr.trainers.rollout import RolloutInfrastructureError
    from rlvr.trainers.trainer import ResumeError

    try:
        summary = run_demo(config=args.config, overrides=args.overrides, output_dir=args.output_dir, quick=args.quick)
    except (ConfigError, ResumeError, FileNotFoundError) as exc:  # (no config file found: pass --config)
        print(f"rlvr demo: {exc}", file=sys.stderr)
        return 2
    except RolloutInfrastructureError as exc:  # the env's verifier kept failing: say why, no traceback
        print(f"rlvr demo: {exc}", file=sys.stderr)
        return EXIT_INFRASTRUCTURE
    return finished_status("rlvr demo", summary)
