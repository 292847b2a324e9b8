"""`rlvr demo`: the project's headline run (what `make demo` does), on a CPU in a few minutes."""

from __future__ import annotations

import os
import shlex
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="warm up a tiny model, train it with DAPO and show held-out pass@1 before/after",
        description="Build a tiny transformer and tokenizer locally, warm it up with a short supervised phase, "
                    "train it with DAPO on a procedural task and print held-out pass@1 before and after RL. "
                    "Writes summary.json, metrics.jsonl, TensorBoard logs and curves.png into runs/demo (or the "
                    "config's log.output_dir, or --output-dir). Each run starts "
                    "afresh; Ctrl-C finishes the current step, saves it and says how to continue (--resume).",
        epilog="Exit status, as `rlvr train`'s: 0 done; 1 done, but an evaluation failed; 2 a bad config or option, "
               "or nothing to resume, or an output folder holding something else than a demo run; 3 verification "
               "kept failing for infrastructure reasons; 4 a checkpoint could not be written (a full disk); 130 "
               "interrupted.",
    )
    p.add_argument("--config", default=None, help="demo config (default: configs/demo.yaml, installed with rlvr)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set train.total_steps=50")
    p.add_argument("--output-dir", default=None,
                   help="where results go (default: the config's log.output_dir, else runs/demo; "
                        "--set log.output_dir=DIR wins)")
    p.add_argument("--quick", action="store_true", help="a shortened run for smoke tests: the full warm-up, then 100 RL steps and 100 evaluation problems (about 3 minutes on 2 cores)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted demo run from its latest checkpoint, exactly where it stopped "
                        "(give the other options as before)")
    p.add_argument("--allow-config-change", action="store_true",
                   help="with --resume: accept changes to any other config key (printed), knowing the resumed "
                        "run is no longer the same run (as rlvr train's)")
    p.set_defaults(func=run)


def resume_command(args) -> str:
    """The command line that continues the demo run ``args`` describe: the same options plus ``--resume``
    (the program as it was called when that was a path to ``rlvr``, e.g. ``.venv/bin/rlvr`` under ``make demo``)."""
    prog = sys.argv[0] if sys.argv and os.path.basename(sys.argv[0]) == "rlvr" else "rlvr"
    parts = [prog, "demo"]
    if args.config is not None:
        parts += ["--config", args.config]
    if args.output_dir is not None:
        parts += ["--output-dir", str(args.output_dir)]
    if args.quick:
        parts.append("--quick")
    for override in args.overrides:
        parts += ["--set", override]
    return shlex.join([*parts, "--resume"])


def _output_dir(args) -> str:
    """Where the run went (:func:`~rlvr.trainers.demo.demo_output_dir`): the last ``--set
    log.output_dir=...``, else ``--output-dir``, else the config's ``log.output_dir``, else runs/demo."""
    from rlvr.trainers.demo import demo_output_dir

    return str(demo_output_dir(args.config, args.overrides, args.output_dir))


def run(args) -> int:
    from rlvr.commands.train import EXIT_INFRASTRUCTURE, EXIT_SAVE_FAILED, finished_status
    from rlvr.trainers.checkpoint import latest_checkpoint
    from rlvr.trainers.config import ConfigError
    from rlvr.trainers.demo import run_demo
    from rlvr.trainers.trajectory import RolloutInfrastructureError
    from rlvr.trainers.trainer import CheckpointSaveError, ResumeError

    if args.allow_config_change and not args.resume:
        print("rlvr demo: --allow-config-change only applies with --resume", file=sys.stderr)
        return 2
    try:
        summary = run_demo(config=args.config, overrides=args.overrides, output_dir=args.output_dir, quick=args.quick,
                           resume=args.resume, allow_config_change=args.allow_config_change)
    except (ConfigError, ResumeError, FileNotFoundError) as exc:  # (no config file found: pass --config)
        print(f"rlvr demo: {exc}", file=sys.stderr)
        return 2
    except RolloutInfrastructureError as exc:  # the env's verifier kept failing: say why, no traceback
        print(f"rlvr demo: {exc}", file=sys.stderr)
        if latest_checkpoint(_output_dir(args)) is not None:
            print(f"rlvr demo: once fixed, continue with: {resume_command(args)}", file=sys.stderr)
        else:  # no step was saved: nothing to resume, and nothing left in the way of starting again
            print("rlvr demo: once fixed, run the same command again", file=sys.stderr)
        return EXIT_INFRASTRUCTURE
    except CheckpointSaveError as exc:  # a checkpoint could not be written (a full disk): why, and how to go on
        print(f"rlvr demo: the run stopped because {exc}", file=sys.stderr)
        if latest_checkpoint(_output_dir(args)) is not None:
            print(f"rlvr demo: once fixed, continue with: {resume_command(args)}", file=sys.stderr)
        return EXIT_SAVE_FAILED
    except KeyboardInterrupt:  # Ctrl-C: the trainer has saved the last step (or said that it could not)
        if latest_checkpoint(_output_dir(args)) is not None:
            print(f"rlvr demo: continue this run with: {resume_command(args)}", file=sys.stderr)
        return 130
    return finished_status("rlvr demo", summary)
