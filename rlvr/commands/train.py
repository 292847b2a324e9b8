"""`rlvr train --config configs/NAME.yaml [--set key=value ...] [--resume [--allow-config-change]]`: RL-train a model."""

from __future__ import annotations

import json
import sys

#: Exit status when the rollouts' verification kept failing for infrastructure reasons (as
#: `rlvr eval`'s 3 for samples a sandbox outage left unverified).
EXIT_INFRASTRUCTURE = 3
#: Exit status when a checkpoint could not be written (a full disk): the run stopped; the message
#: says why, which checkpoint is the latest good one and how to resume from it.
EXIT_SAVE_FAILED = 4


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a model with GRPO/DAPO on an environment",
        description="Train a policy with RL on verifiable rewards. Every setting lives in the YAML config; "
                    "--set key=value overrides one (dotted keys, YAML values), e.g. --set train.lr=1e-5. "
                    "Ctrl-C (or SIGTERM) finishes the current step, saves a checkpoint and exits; --resume "
                    "continues from it. summary.json and curves.png are rewritten at each checkpoint and when "
                    "the run stops.",
        epilog="Exit status: 0 done; 1 done, but an evaluation failed (the training is saved); 2 a bad config "
               "or option (a config file that is not UTF-8 YAML among them), or nothing to resume, or a "
               "log.output_dir that cannot take the run (another run's, an rlvr eval's); 3 verification kept "
               "failing for infrastructure reasons (sandbox down, verifier crash; the last completed step is "
               "saved: resume once fixed), or a prompt drawn from a procedural env does not fit "
               "sampling.max_context_tokens (a finite dataset's are checked at start: 2); 4 a checkpoint could not be saved (e.g. a full disk; resume from the "
               "latest good one once fixed); 130 interrupted.",
    )
    p.add_argument("--config", default=None,
                   help="YAML config, e.g. configs/demo.yaml (with --resume it may be left out: the run's saved "
                        "config.json is used, found from --set log.output_dir=DIR)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (repeatable), e.g. --set algorithm.kl_coef=0.01")
    p.add_argument("--resume", action="store_true",
                   help="continue from the latest checkpoint in log.output_dir (exactly where it stopped); "
                        "train.total_steps, the optimizer settings (train.lr, weight_decay, beta1, beta2, "
                        "max_grad_norm), train.infra_retries, train.micro_batch_size, model.gradient_checkpointing, "
                        "log.* and eval.* may differ from the checkpoint's config (a new train.total_steps "
                        "reshapes a linear or cosine learning-rate schedule to the new length: the rate at the "
                        "resume point is printed)")
    p.add_argument("--allow-config-change", action="store_true",
                   help="with --resume: accept changes to any other config key (printed), knowing the resumed "
                        "run is no longer the same run")
    p.set_defaults(func=run)


def _config_path(args) -> str:
    """``--config``, or with ``--resume`` alone the ``config.json`` of the run named by ``--set log.output_dir``."""
    from pathlib import Path

    from rlvr.trainers.config import ConfigError, override_value

    if args.config is not None:
        return args.config
    dirs = [override_value(o) for o in args.overrides if o.split("=", 1)[0].strip() == "log.output_dir"]
    dirs = [str(d) for d in dirs if d is not None]
    if not args.resume or not dirs:
        raise ConfigError("--config is required (e.g. --config configs/demo.yaml); only --resume --set "
                          "log.output_dir=DIR may leave it out, to reuse DIR/config.json")
    saved = Path(dirs[-1]).expanduser() / "config.json"
    if not saved.is_file():
        raise ConfigError(f"--resume without --config: {saved} not found; pass --config with the run's config")
    return str(saved)


def finished_status(command: str, summary: dict) -> int:
    """Exit status of a finished run: 1, with a message on stderr, when an evaluation failed
    (``summary["eval_errors"]``: the training is saved, but its pass@1 is missing), else 0."""
    if summary.get("eval_errors"):
        print(f"{command}: training finished, but evaluation failed: {summary['eval_errors']}", file=sys.stderr)
        return 1
    return 0


def _infrastructure_failed(exc: Exception, trainer) -> int:
    """The rollouts' verification kept failing for infrastructure reasons (sandbox down, verifier
    crash): the trainer's message, which step stopped and how to resume, without a traceback."""
    from rlvr.trainers.runs import resume_hint

    print(f"rlvr train: {exc}\nrlvr train: {resume_hint(trainer.out, 'stopped', trainer.step_count)}", file=sys.stderr)
    return EXIT_INFRASTRUCTURE


def _prompt_too_long(exc: Exception, trainer) -> int:
    """A prompt drawn mid-run (an endless procedural source: a finite dataset's prompts are checked
    at start) does not fit ``sampling.max_context_tokens``: the error with its advice (its notes),
    without a traceback. The trainer saved the last completed step and said how to resume; the
    same exit status as an infrastructure stop, since resuming once the cause is fixed goes on."""
    notes = "".join(f" {note}" for note in getattr(exc, "__notes__", ()))
    print(f"rlvr train: the run stopped at step {trainer.step_count + 1} because {exc}{notes}", file=sys.stderr)
    return EXIT_INFRASTRUCTURE


def save_failed(command: str, exc: Exception, trainer) -> int:
    """A checkpoint could not be written (:class:`~rlvr.trainers.trainer.CheckpointSaveError`: a full
    disk, a lost mount): why, the latest good checkpoint and how to resume, without a traceback."""
    from rlvr.trainers.runs import resume_hint

    print(f"{command}: the run stopped because {exc}\n{command}: {resume_hint(trainer.out, 'stopped', trainer.step_count)}",
          file=sys.stderr)
    return EXIT_SAVE_FAILED


def run(args) -> int:
    from rlvr.trainers.config import ConfigError, load_config
    from rlvr.trainers.trajectory import PromptTooLongError, RolloutInfrastructureError
    from rlvr.trainers.trainer import CheckpointSaveError, ResumeError, Trainer
    from rlvr.trainers.vllm_engine import VLLMUnavailableError

    if args.allow_config_change and not args.resume:
        print("rlvr train: --allow-config-change only applies with --resume", file=sys.stderr)
        return 2
    try:
        path = _config_path(args)
        try:
            config = load_config(path, args.overrides)
        except UnicodeDecodeError as exc:  # (a config file that is not UTF-8: one line, not a traceback)
            raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        trainer = Trainer(config, resume=args.resume, allow_config_change=args.allow_config_change)
    except (ConfigError, ResumeError, VLLMUnavailableError) as exc:
        print(f"rlvr train: {exc}", file=sys.stderr)
        return 2
    try:
        summary = trainer.train()
    except KeyboardInterrupt:  # (TrainingInterrupted too) the trainer has said what was saved and how to resume
        return 130
    except RolloutInfrastructureError as exc:
        return _infrastructure_failed(exc, trainer)
    except PromptTooLongError as exc:
        return _prompt_too_long(exc, trainer)
    except CheckpointSaveError as exc:
        return save_failed("rlvr train", exc, trainer)
    finally:
        trainer.close()
    print(json.dumps(summary))
    return finished_status("rlvr train", summary)
