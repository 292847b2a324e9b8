"""The demo (``rlvr demo`` / ``make demo``): RL visibly teaches a tiny model something, on a CPU.

1. Build a tiny Llama-style transformer and a character tokenizer locally (no downloads).
2. Warm it up with a short supervised phase on two-digit addition (``rlvr/Arithmetic-v0``, compact
   prompts such as ``"57+68="``) on a noisy teacher's answers: 90% of them are one too high (a
   fencepost error), so the warmed-up model mostly repeats the mistake and has a modest held-out
   accuracy. Nothing but the verifier's reward tells it otherwise.
3. Train it with DAPO (clip-higher, token-level loss, dynamic sampling, no KL) against the exact
   verifier.
4. Print held-out pass@1 (greedy decoding, 200 problems never seen in training) before and after RL,
   save the curves, and write ``runs/demo/summary.json``.

The demo starts afresh every time (``log.overwrite``) in a directory it marks as its own
(:data:`MARKER`, written for each demo run; any other run there removes it); it refuses a
directory that holds any other run rather than delete it. An interrupted demo (Ctrl-C saves the
last step) continues exactly where it stopped with ``rlvr demo --resume`` (``run_demo(resume=True)``)
and the same options; a plain rerun replaces it.

The output directory: ``--set log.output_dir=DIR``, else ``--output-dir``, else the config file's
``log.output_dir``, else ``runs/demo`` (:func:`demo_output_dir`).
"""

from __future__ import annotations

import json
import os
import shlex
import time
from pathlib import Path
from typing import Sequence

import yaml

from rlvr.trainers.config import SHIPPED_CONFIGS, Config, ConfigError, load_config
from rlvr.trainers.runs import DEMO_MARKER, LOCK_FILE, lock_output_dir, release_output_dir

__all__ = ["run_demo", "demo_output_dir", "DEMO_CONFIG", "DEFAULT_OUTPUT_DIR", "QUICK_OVERRIDES", "MARKER"]

#: The file that marks an output directory's run as the demo's, so that a rerun may replace it
#: (removed by any other run there: see :data:`~.runs.DEMO_MARKER`).
MARKER = DEMO_MARKER

#: Where the demo writes when neither the options nor the config file say (``log.output_dir``).
DEFAULT_OUTPUT_DIR = "runs/demo"

DEMO_CONFIG = SHIPPED_CONFIGS / "demo.yaml"

#: A shortened demo for tests and smoke runs: the full warm-up (~2 minutes on two cores), then 100 RL steps.
QUICK_OVERRIDES = ("train.total_steps=100", "eval.num_tasks=100", "eval.every=0")


def _config_path(config: str | Path | None) -> Path:
    if config is not None:
        return Path(config)
    if DEMO_CONFIG.is_file():
        return DEMO_CONFIG
    local = Path("configs/demo.yaml")
    if local.is_file():
        return local
    raise FileNotFoundError("configs/demo.yaml not found; pass --config PATH")


def _sets_output_dir(path: Path) -> bool:
    """Whether the config file ``path`` (already read by :func:`load_config`) sets ``log.output_dir``."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return False
    log = data.get("log") if isinstance(data, dict) else None
    return isinstance(log, dict) and log.get("output_dir") is not None


def _load(config: str | Path | None, overrides: Sequence[str], output_dir: str | Path | None, quick: bool) -> Config:
    """The demo's config, its ``log.output_dir`` chosen as :func:`demo_output_dir` says."""
    path = _config_path(config)
    try:
        cfg = load_config(path, [*(QUICK_OVERRIDES if quick else ()), "log.overwrite=true", *overrides])
    except UnicodeDecodeError as exc:  # (a config file that is not UTF-8: one line, not a traceback)
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    if not any(o.split("=", 1)[0].strip() == "log.output_dir" for o in overrides):
        if output_dir is not None:
            cfg.log.output_dir = str(output_dir)  # (set as is: a path is no YAML value, "runs/x #2" neither)
        elif not _sets_output_dir(path):
            cfg.log.output_dir = DEFAULT_OUTPUT_DIR
    cfg.log.output_dir = os.path.expanduser(cfg.log.output_dir)  # `--output-dir=~/x`: the home folder's, as a shell's
    return cfg


def demo_output_dir(config: str | Path | None = None, overrides: Sequence[str] = (),
                    output_dir: str | Path | None = None) -> Path:
    """Where :func:`run_demo` with these arguments writes: the last ``log.output_dir`` override, else
    ``output_dir`` (``--output-dir``), else the config file's ``log.output_dir``, else
    :data:`DEFAULT_OUTPUT_DIR`.

    Raises:
        ConfigError, FileNotFoundError: as :func:`run_demo` does for a bad config.
    """
    return Path(_load(config, overrides, output_dir, quick=False).log.output_dir)


def _made_by_demo(out: Path) -> bool:
    """Whether ``out`` holds a demo run: the marker, or (a demo run from before the marker existed)
    a ``summary.json`` with the fields only the demo adds (``eval_decoding``, ``wall_seconds``)."""
    if (out / MARKER).exists():
        return True
    try:
        saved = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and "eval_decoding" in saved and "wall_seconds" in saved


def run_demo(
    config: str | Path | None = None,
    overrides: Sequence[str] = (),
    output_dir: str | Path | None = None,
    quick: bool = False,
    resume: bool = False,
    allow_config_change: bool = False,
) -> dict:
    """Run the demo and return its summary (also written to ``<log.output_dir>/summary.json``; where
    that is: :func:`demo_output_dir`). ``resume``: continue the interrupted demo run there from its
    latest checkpoint (same arguments as that run); with ``allow_config_change`` as well, accept
    changes to settings a resume would otherwise refuse (printed; as ``rlvr train --resume
    --allow-config-change``)."""
    from rlvr.trainers.trainer import ResumeError

    t0 = time.perf_counter()
    cfg = _load(config, overrides, output_dir, quick)
    out = Path(cfg.log.output_dir)
    if resume and not out.is_dir():
        raise ResumeError(f"--resume: no checkpoint: {out} does not exist (run rlvr demo without --resume to start)")
    lock_output_dir(out)  # (before looking: no other run may change it meanwhile)
    try:
        if out.is_dir() and any(p.name != LOCK_FILE for p in out.iterdir()) and not _made_by_demo(out):
            if resume:
                raise ResumeError(
                    f"--resume: {out} was not made by rlvr demo (no {MARKER} file); rlvr demo --resume continues "
                    f"only a demo run (rlvr train --resume --set {shlex.quote(f'log.output_dir={out}')} continues another run)"
                )
            raise ResumeError(
                f"{out} is not empty and was not made by rlvr demo (no {MARKER} file); the demo replaces its output "
                "directory, so choose another --output-dir (or delete this one yourself)"
            )
        return _run(cfg, out, t0, resume, allow_config_change)
    finally:
        release_output_dir(out)


def _run(cfg, out: Path, t0: float, resume: bool, allow_config_change: bool) -> dict:
    from rlvr.trainers.checkpoint import latest_checkpoint
    from rlvr.trainers.trainer import Trainer

    print(
        f"rlvr demo: tiny model (hidden {cfg.model.tiny_hidden_size}, {cfg.model.tiny_layers} layers) on {cfg.env.id} "
        f"{cfg.env.kwargs}; warm-up {cfg.warmup.steps} supervised steps, then {cfg.train.total_steps} DAPO steps "
        f"({cfg.train.batch_groups} prompts x {cfg.train.group_size} samples)",
        flush=True,
    )
    ckpt = None if resume else latest_checkpoint(out)
    if ckpt is not None and int(ckpt.name.split("_")[-1]) < cfg.train.total_steps:  # an unfinished demo run
        print(f"rlvr demo: starting afresh replaces the unfinished demo run in {out} (its latest checkpoint is "
              f"{ckpt.name}); rlvr demo --resume would continue it instead", flush=True)
    trainer = Trainer(cfg, resume=resume, allow_config_change=allow_config_change)
    if trainer.resumed_from is not None:
        print(f"rlvr demo: resuming from {trainer.resumed_from} (step {trainer.step_count})", flush=True)
    # (written by train() once the previous run's outputs, this mark among them, are gone)
    trainer.run_marks[MARKER] = "made by rlvr demo: a rerun of the demo replaces this directory's run\n"
    try:
        summary = trainer.train()
    finally:
        trainer.close()
    # (a resumed demo: the earlier segments' time too)
    wall = time.perf_counter() - t0 + trainer.train_seconds_before
    decoding = "greedy" if cfg.eval.temperature == 0 else f"sampled at temperature {cfg.eval.temperature}"
    before, after = summary.get("pass@1_before"), summary.get("pass@1_after")
    summary.update({"eval_decoding": decoding, "eval_problems": cfg.eval.num_tasks, "wall_seconds": wall})
    if before is not None and after is not None:
        summary["improvement"] = after - before
    if cfg.log.plot:
        summary["curves"] = str(out / "curves.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    timing = (f"warm-up {summary.get('warmup_seconds', 0):.0f}s, "
              f"RL {summary['train_seconds'] - summary.get('warmup_seconds', 0):.0f}s, total {wall:.0f}s")
    if not cfg.eval.num_tasks:
        result = "no held-out evaluation was requested (eval.num_tasks=0)"
    elif before is None or after is None:
        shown = " -> ".join(f"{v:.3f}" for v in (before, after) if v is not None) or "none"
        result = (f"held-out pass@1 ({decoding}, {cfg.eval.num_tasks} problems): {shown} "
                  f"(before: {'yes' if before is not None else 'not evaluated'}, after: "
                  f"{'yes' if after is not None else 'not evaluated'}; see summary.json)")
    else:
        result = (f"held-out pass@1 ({decoding}, {cfg.eval.num_tasks} problems): {before:.3f} before RL -> "
                  f"{after:.3f} after RL ({summary['improvement']:+.3f})")
    print(f"\n{result}; {timing}", flush=True)
    files = ", ".join(name for name, on in (("summary.json", True), ("metrics.jsonl", cfg.log.jsonl),
                                            ("curves.png", cfg.log.plot), ("tensorboard/", cfg.log.tensorboard)) if on)
    print(f"results in {out}/ ({files})", flush=True)
    return summary
