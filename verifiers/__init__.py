"""Outcome and process rewards: math equivalence, code unit tests, format and shaping rewards."""

from rlvr.verifiers.verdict import Verdict

__all__ = ["Verdict"]
