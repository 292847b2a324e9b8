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
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Sequence

from rlvr.trainers.config import load_config

__all__ = ["run_demo", "DEMO_CONFIG", "QUICK_OVERRIDES"]

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "demo.yaml"

#: A shortened demo for tests and smoke runs (about two minutes on two cores).
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


def run_demo(
    config: str | Path | None = None,
    overrides: Sequence[str] = (),
    output_dir: str | Path = "runs/demo",
    quick: bool = False,
) -> dict:
    """Run the demo and return its summary (also written to ``<output_dir>/summary.json``)."""
    from rlvr.trainers.trainer import Trainer

    t0 = time.perf_counter()
    extra = [*(QUICK_OVERRIDES if quick else ()), f"log.output_dir={output_dir}", "log.overwrite=true", *overrides]
    cfg = load_config(_config_path(config), extra)
    print(
        f"rlvr demo: tiny model (hidden {cfg.model.tiny_hidden_size}, {cfg.model.tiny_layers} layers) on {cfg.env.id} "
        f"{cfg.env.kwargs}; warm-up {cfg.warmup.steps} supervised steps, then {cfg.train.total_steps} DAPO steps "
        f"({cfg.train.batch_groups} prompts x {cfg.train.group_size} samples)",
        flush=True,
    )
    trainer = Trainer(cfg)
    try:
        summary = trainer.train()
    finally:
        trainer.close()
    wall = time.perf_counter() - t0
    decoding = "greedy" if cfg.eval.temperature == 0 else f"sampled at temperature {cfg.eval.temperature}"
    summary.update({
        "eval_decoding": decoding,
        "eval_problems": cfg.eval.num_tasks,
        "improvement": (summary["pass@1_after"] - summary["pass@1_before"]),
        "wall_seconds": wall,
        "curves": str(Path(output_dir) / "curves.png"),
    })
    Path(output_dir, "summary.json").write_text(json.dumps(summary, indent=2))
    print(
        f"\nheld-out pass@1 ({decoding}, {cfg.eval.num_tasks} problems): "
        f"{summary['pass@1_before']:.3f} before RL -> {summary['pass@1_after']:.3f} after RL "
        f"({summary['improvement']:+.3f}); warm-up {summary.get('warmup_seconds', 0):.0f}s, "
        f"RL {summary['train_seconds'] - summary.get('warmup_seconds', 0):.0f}s, total {wall:.0f}s",
        flush=True,
    )
    print(f"results in {output_dir}/ (summary.json, metrics.jsonl, curves.png, tensorboard/)", flush=True)
    return summary
