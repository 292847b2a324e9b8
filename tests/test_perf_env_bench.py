"""`benchmarks/perf/env_bench.py`'s diagnostics run and score what the env scores.

Timings are not checked (tests check behaviour): only that each mode runs end to end on a tiny
batch and ends with its JSON line, and that `floor_step` — the inline lower bound the env layer's
overhead is compared with — pays exactly the rewards the vector env pays for the same answers
(`bench_math` asserts that its right answers and format parts match the direct verifiers').
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "perf" / "env_bench.py"


@pytest.mark.parametrize("mode", ["--floor", "--layer-only"])
def test_the_diagnostics_run_and_end_with_their_figures(mode):
    done = subprocess.run([sys.executable, str(BENCH), mode, "--rounds", "1", "--batch", "4", "--mixes", "short,latex"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    key = "floor_overhead" if mode == "--floor" else "layer_alone_us"
    assert {f"math_short_{key}", f"math_latex_{key}"} <= set(figures)


def test_the_default_mode_runs_both_envs_and_ends_with_their_figures():
    done = subprocess.run([sys.executable, str(BENCH), "--rounds", "1", "--batch", "4", "--mixes", "short",
                           "--backend", "subprocess"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"math_overhead", "math_overhead_vs_verify_only", "toolmath_overhead", "toolmath_env_steps_per_s"} <= set(figures)
    assert figures["sandbox_backend"] == "subprocess"


def test_the_floor_step_pays_what_the_env_pays():
    sys.path.insert(0, str(BENCH.parent))
    try:
        import env_bench
    finally:
        sys.path.remove(str(BENCH.parent))
    for mix in ("short", "latex"):
        vec, indices = env_bench.math_vec(mix, 6)
        twin, _ = env_bench.math_vec(mix, 6)
        cores = [env.unwrapped for env in twin.envs]
        try:
            for round_no in range(3):
                vec.reset(seed=round_no, options={"index": indices})
                twin.reset(seed=round_no, options={"index": indices})
                golds = [env.unwrapped.task.answer for env in vec.envs]
                completions = env_bench.math_completions(mix, round_no, golds, indices)
                prompts, rewards, _, _, info = vec.step(completions)
                floor_prompts, floor_rewards, floor_info = env_bench.floor_step(cores, completions)
                assert rewards.tolist() == floor_rewards.tolist()
                assert 0 < rewards.sum() < len(rewards)  # right and wrong answers both
                # the same next tasks from the same generators, and the same prompts
                assert list(prompts) == floor_prompts
                assert info["task_id"].tolist() == floor_info["task_id"].tolist()
                assert info["final_info"]["task_id"].tolist() == floor_info["final_info"]["task_id"].tolist()
        finally:
            vec.close()
            twin.close()
