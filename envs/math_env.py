"""`rlvr/Math-v0`: question/answer maths, scored by `rlvr.verifiers.math.verify`.

Any question/answer dataset works through `dataset=` (hub id or local file) with `split=`,
`question_key=` and `answer_key=`. Without keys the common layouts are recognised: GSM8K
(`question`, and `answer` ending in "#### n") and MATH (`problem`, and `answer` or a `solution`
whose last `\\boxed{}` is the answer). Without `dataset=` a small built-in set is used.

Reward parts: `outcome` (the verifier's score), `format` (1 when the answer is in `\\boxed{}`;
weighted 0 unless `reward_weights={"format": w}`) and, with `process_reward="steps"`, `process`
(the fraction of the reasoning's checked steps whose arithmetic holds; weighted 0 unless
`reward_weights={"process": w}`). A non-zero `process` weight without `process_reward` is refused
(a ValueError, when the env is built and when the weights are reassigned): it would pay 0.
"""

from __future__ import annotations

from typing import Any

from rlvr.envs.base import PROCESS_HOOKS, Setting, overrides_any
from rlvr.envs.custom import DatasetEnv
from rlvr.envs.process import check_process_reward, steps_reward
from rlvr.envs.samples import MATH_SAMPLES
from rlvr.envs.tasks import Task


class MathEnv(DatasetEnv):
    """Single-turn maths: prompt = question + "put the answer in \\boxed{}", verdict by sympy.

    Args:
        dataset: hub id, local json/jsonl/parquet/csv path, `datasets.Dataset` or list of dicts
            (default: the built-in sample set).
        split / config / revision: which part and version of a hub dataset (refused with the
            built-in sample set or rows in memory, which have none).
        question_key / answer_key: columns (default: recognised from the layout).
        prompt: template ("{question}") or callable(task) -> str.
        timeout: seconds the math verifier may spend per answer.
        process_reward: None, or "steps" to check the arithmetic claims of the reasoning with
            `verify_steps` (the `process` part; see `rlvr.envs.process`).
        **kwargs: `TextEnv` arguments (`reward_weights`, `system_prompt`, `max_action_chars`...).
    """

    env_name = "Math"
    question_candidates = ("question", "problem", "prompt", "input")
    answer_candidates = ("answer", "final_answer", "solution", "target", "output")
    process_reward = Setting("_checked_process_reward")  # recorded in the fingerprint
    # the steps check's time limit is the verifier's `timeout`, which the fingerprint records and the
    # scorer was built with: changing it alone would leave the two apart under one fingerprint
    steps_timeout = Setting(fixed=True)

    def __init__(self, dataset: Any = None, *, timeout: float = 5.0, process_reward: str | None = None, **kwargs: Any) -> None:
        self.process_reward = process_reward
        self.steps_timeout = float(timeout)
        if "verifier" in kwargs:
            raise TypeError(f"{type(self).__name__} always uses the math verifier; register another task with rlvr.register(..., verifier=...) instead")
        kwargs.setdefault("format_reward", "boxed")
        super().__init__(
            MATH_SAMPLES if dataset is None else dataset,
            verifier="math",
            verifier_settings={"timeout": timeout},
            **kwargs,
        )

    def _checked_process_reward(self, name: str, value: Any) -> str | None:
        """One of `PROCESS_REWARDS`; None is refused under a non-zero `process` weight that then
        nothing could pay (once the weights are set: see `pays_process`)."""
        value = check_process_reward(value)
        weights = self.__dict__.get("_reward_weights")
        if value is None and weights is not None and weights.process != 0 and not overrides_any(type(self), MathEnv, PROCESS_HOOKS):
            raise ValueError(f"{type(self).__name__}: process_reward=None would leave the 'process' part always 0 under "
                             f"its reward weight {weights.process}; set reward_weights without a 'process' weight first")
        return value

    def pays_process(self) -> bool:
        """With `process_reward` set, or in a subclass making the part itself (ToolMath-v0's tool-call
        credit); without either, a non-zero `process` weight is refused."""
        return self.process_reward is not None or overrides_any(type(self), MathEnv, PROCESS_HOOKS)

    def process_weight_fix(self) -> str:
        # not rlvr.register: a registered task takes no process_reward (it pays no process part)
        return ("pass process_reward='steps' (credits the reasoning's checked arithmetic steps): "
                "rlvr.make('rlvr/Math-v0', dataset=..., process_reward='steps'), or drop the 'process' weight")

    def process_score(self, task: Task, content: str) -> tuple[float, dict[str, Any] | None]:
        if self.process_reward != "steps":
            return 0.0, None
        score, details = steps_reward(content, timeout=self.steps_timeout)
        return score or 0.0, {"process": {"steps": details}}

    def settings(self) -> dict[str, Any]:
        """With `process_reward="steps"`, the steps check's rules version too (`process_rules`), so
        that process rewards of two rule sets never share a fingerprint."""
        if self.process_reward != "steps":
            return {**super().settings(), "process_reward": self.process_reward}
        from rlvr.verifiers.steps import RULES_VERSION

        return {**super().settings(), "process_reward": self.process_reward, "process_rules": RULES_VERSION}
