"""Outcome and process rewards: math equivalence, code unit tests, format and shaping rewards."""

from rlvr.verifiers.verdict import Verdict

__all__ = ["Verdict"]

# math side (verifiers/math*.py, steps.py, shaping.py, timelimit.py)
from rlvr.verifiers.math import GoldAnswerError, averify, extract_answer, validate_gold, validate_golds, verify, verify_batch  # noqa: E402
from rlvr.verifiers.shaping import boxed_reward, format_verdict, length_penalty, overlong_penalty, think_format_reward  # noqa: E402
from rlvr.verifiers.steps import verify_steps  # noqa: E402

__all__ += ["GoldAnswerError", "averify", "extract_answer", "validate_gold", "validate_golds", "verify", "verify_batch",
            "boxed_reward", "format_verdict", "length_penalty", "overlong_penalty", "think_format_reward", "verify_steps"]

# code side (verifiers/code*.py)
from rlvr.verifiers.code import check_function, check_functions, check_io, compare_output, extract_code  # noqa: E402

__all__ += ["check_function", "check_functions", "check_io", "compare_output", "extract_code"]
