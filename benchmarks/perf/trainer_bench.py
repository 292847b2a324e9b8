"""One RL step (generation + reward + update) with rlvr's trainer and with TRL's GRPOTrainer.

Same tiny model (a locally built Llama-style transformer and character tokenizer), same task (compact
Arithmetic-v0 prompts such as ``"37+48="``, exact-answer reward), same group size, batch, generation
length, temperature, clipping and loss (DAPO token-mean, no KL, one optimisation pass), in the same
process on the same device. Each trainer runs ``--warmup`` steps, then ``--steps`` timed steps; the
median step time is reported. Dynamic sampling is off on both sides so both do the same work.

The last line printed is one JSON object with ``step_time_ratio_vs_trl`` (rlvr / TRL; lower is
better, target <= 0.5) and each side's share of step time spent generating. rlvr does not forward
rows whose advantages are all 0 (groups without reward variance: their loss terms are exactly 0,
the update is the same); TRL forwards them. So that this saving is visible rather than hidden, rlvr
also runs with ``train.skip_zero_advantage=false`` and ``step_time_ratio_vs_trl_every_row`` reports
that ratio, with ``rlvr_rows_trained_frac`` the share of rows that carried signal.

    .venv/bin/python benchmarks/perf/trainer_bench.py            # needs `pip install -e ".[bench]"` (trl)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings

import torch

warnings.filterwarnings("ignore")


_WARM: dict = {}


def build(seed: int, hidden: int, layers: int, warmup_steps: int = 0):
    """The tiny model, after a short supervised warm-up (done once, then copied) so that rewards vary
    within groups and both trainers really compute and apply gradients."""
    from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer
    from rlvr.trainers.warmup import supervised_warmup

    tok = build_tiny_tokenizer()
    model = build_tiny_model(tok, hidden_size=hidden, num_layers=layers, seed=seed)
    if warmup_steps:
        if "state" not in _WARM:
            supervised_warmup(model, tok, "rlvr/Arithmetic-v0", env_kwargs={"format": "compact", "digits": 2},
                              steps=warmup_steps, lr=3e-3)
            _WARM["state"] = {k: v.clone() for k, v in model.state_dict().items()}
        model.load_state_dict(_WARM["state"])
    return model, tok


def rlvr_steps(args, device: str, *extra: str) -> dict:
    from rlvr.trainers.config import load_config
    from rlvr.trainers.trainer import Trainer

    model, tok = build(args.seed, args.hidden, args.layers, args.sft_steps)
    with tempfile.TemporaryDirectory() as out:
        cfg = load_config(None, [
            f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", "log.jsonl=false", "log.plot=false",
            "log.save_final=false", "env.kwargs={format: compact, digits: 2}", f"model.device={device}",
            f"sampling.max_new_tokens={args.max_new_tokens}", "sampling.temperature=1.0",
            f"train.batch_groups={args.prompts}", f"train.group_size={args.group}", "train.lr=1e-5",
            "algorithm.dynamic_sampling=false", "algorithm.eps_low=0.2", "algorithm.eps_high=0.28",
            "algorithm.loss_agg=token-mean", "algorithm.kl_coef=0", f"train.total_steps={args.warmup + args.steps}",
            f"train.seed={args.seed}", *extra,
        ])
        trainer = Trainer(cfg, model=model, tokenizer=tok)
        rows = [trainer.step() for _ in range(args.warmup + args.steps)][args.warmup:]
    step = [r["time/step"] for r in rows]
    gen = [r["time/generate"] for r in rows]
    return {
        "step_s": statistics.median(step),
        "generate_share": statistics.median(g / s for g, s in zip(gen, step)),
        "reward_s": statistics.median(r["time/reward"] for r in rows),
        "update_s": statistics.median(r["time/update"] for r in rows),
        "mean_completion_tokens": statistics.mean(r["response_length"] for r in rows),
        "reward_mean": statistics.mean(r["reward_mean"] for r in rows),
        "skipped_updates": sum(int(r.get("skipped", 0)) for r in rows),
        "rows_trained_frac": statistics.mean(r.get("rows_trained_frac", 0.0) for r in rows),
    }


def trl_steps(args, device: str) -> dict:
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    import rlvr
    from rlvr.envs.answers import final_answer

    model, tok = build(args.seed, args.hidden, args.layers, args.sft_steps)
    env = rlvr.make("rlvr/Arithmetic-v0", format="compact", digits=2)
    rows = []
    for i in range(args.prompts * (args.warmup + args.steps + 1)):
        prompt, _ = env.reset(options={"index": i})
        rows.append({"prompt": prompt, "answer": str(env.unwrapped.task.answer)})
    dataset = Dataset.from_list(rows)

    def exact_answer(prompts, completions, answer, **kwargs):
        return [1.0 if final_answer(c, compact=True) == a else 0.0 for c, a in zip(completions, answer)]

    total = args.warmup + args.steps
    with tempfile.TemporaryDirectory() as out:
        config = GRPOConfig(
            output_dir=out, per_device_train_batch_size=args.prompts * args.group, num_generations=args.group,
            gradient_accumulation_steps=1, steps_per_generation=1, num_iterations=1,
            max_completion_length=args.max_new_tokens, temperature=1.0, top_p=1.0, top_k=0,
            beta=0.0, loss_type="dapo", epsilon=0.2, epsilon_high=0.28, learning_rate=1e-5,
            max_steps=total, logging_steps=10_000, save_strategy="no", report_to="none",
            use_cpu=device == "cpu", bf16=device == "cuda", seed=args.seed, dataloader_num_workers=0,
            shuffle_dataset=False, disable_dropout=True,
        )
        trainer = GRPOTrainer(model=model, reward_funcs=exact_answer, args=config, train_dataset=dataset, processing_class=tok)
        timings: list[float] = []
        gen_times: list[float] = []
        real_generate = trainer._generate

        def timed_generate(*a, **k):
            t0 = time.perf_counter()
            try:
                return real_generate(*a, **k)
            finally:
                gen_times.append(time.perf_counter() - t0)

        trainer._generate = timed_generate

        class Clock(TrainerCallback):
            def on_step_begin(self, *a, **k):
                self.t0 = time.perf_counter()

            def on_step_end(self, *a, **k):
                timings.append(time.perf_counter() - self.t0)

        trainer.add_callback(Clock())
        trainer.train()
    step = timings[args.warmup :]
    gen = gen_times[args.warmup : args.warmup + len(step)]
    return {
        "step_s": statistics.median(step),
        "generate_share": statistics.median(g / s for g, s in zip(gen, step)) if gen else None,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prompts", type=int, default=16, help="prompts per step")
    p.add_argument("--group", type=int, default=8, help="samples per prompt")
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--steps", type=int, default=10, help="timed steps per trainer (the median is reported)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--sft-steps", type=int, default=700, help="supervised warm-up so that rewards vary (0: random model)")
    args = p.parse_args()
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    try:
        import trl  # noqa: F401
    except ImportError:
        print('TRL is not installed: pip install -e ".[bench]"', file=sys.stderr)
        return 2
    print(f"device {device}, torch threads {torch.get_num_threads()}, {args.prompts} prompts x {args.group} samples, "
          f"{args.max_new_tokens} new tokens, tiny model hidden {args.hidden} x {args.layers} layers", file=sys.stderr)
    ours = rlvr_steps(args, device)
    print(f"rlvr: {ours}", file=sys.stderr)
    # the same run forwarding every row, rows of groups without reward variance (all advantages 0,
    # nothing to learn) included, as TRL does: what the step costs when every group carries signal
    all_rows = rlvr_steps(args, device, "train.skip_zero_advantage=false")
    print(f"rlvr, every row forwarded: {all_rows}", file=sys.stderr)
    theirs = trl_steps(args, device)
    print(f"trl:  {theirs}", file=sys.stderr)
    import trl as _trl

    print(json.dumps({
        "device": device,
        "rlvr_step_s": round(ours["step_s"], 4),
        "trl_step_s": round(theirs["step_s"], 4),
        "step_time_ratio_vs_trl": round(ours["step_s"] / theirs["step_s"], 3),
        "rlvr_generate_share": round(ours["generate_share"], 3),
        "trl_generate_share": round(theirs["generate_share"], 3) if theirs["generate_share"] is not None else None,
        "rlvr_reward_s": round(ours["reward_s"], 4),
        "rlvr_update_s": round(ours["update_s"], 4),
        "rlvr_rows_trained_frac": round(ours["rows_trained_frac"], 3),
        "rlvr_step_s_every_row": round(all_rows["step_s"], 4),
        "step_time_ratio_vs_trl_every_row": round(all_rows["step_s"] / theirs["step_s"], 3),
        "rlvr_reward_mean": round(ours["reward_mean"], 3), "rlvr_skipped_updates": ours["skipped_updates"],
        "sft_steps": args.sft_steps,
        "prompts": args.prompts, "group": args.group, "max_new_tokens": args.max_new_tokens,
        "trl_version": _trl.__version__,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
