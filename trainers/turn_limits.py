"""How many model turns an episode may have: the env's own limit, and a caller's ``max_turns`` checked against it.

An env ends every episode at its own turn limit, so a caller's larger ``max_turns`` would silently
mean less than it says: :func:`check_max_turns` refuses it, naming the env (:func:`env_label`). Used
by the rollouts, the training config's checks and ``rlvr eval``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["own_turn_limit", "check_max_turns", "single_turn_only", "env_label"]


def own_turn_limit(env: Any) -> int:
    """The model turns an episode of ``env`` may have at most: its own ``max_turns`` (1 when it has none)."""
    return int(getattr(getattr(env, "unwrapped", env), "max_turns", 1) or 1)


def check_max_turns(env: Any, max_turns: int | None) -> int:
    """The turn limit of episodes of ``env`` under a caller's ``max_turns`` (None: the env's own).

    Raises ValueError when ``max_turns`` is more than the env's own limit: the env ends every
    episode at its own limit, so the caller's would silently mean less than it says (a trainer's
    ``env.max_turns: 8`` on an env that stops at 4)."""
    own = own_turn_limit(env)
    if max_turns is None or max_turns <= own:
        return own if max_turns is None else max_turns
    name = env_label(env)
    if own == 1 and single_turn_only(env):
        raise ValueError(
            f"max_turns={max_turns}, but {name} is a single-turn env: every episode ends after its first turn; "
            "leave max_turns unset (or 1), or use a multi-turn env")
    raise ValueError(
        f"max_turns={max_turns} is more than the {own} turn(s) {name} allows per episode, and the env ends "
        f"every episode there; raise the env's own limit (its max_turns setting: env_kwargs={{'max_turns': {max_turns}}}, "
        "which a training config's env.max_turns sets for a multi-turn env) or lower max_turns "
        f"(--max-turns in rlvr eval) to at most {own}")


def single_turn_only(env: Any) -> bool:
    """Whether ``env`` is a single-turn env that cannot be given more turns (a ``SingleTurnEnv``
    that does not override how a turn is answered)."""
    from rlvr.envs.base import SingleTurnEnv, overrides_any

    core = getattr(env, "unwrapped", env)
    return isinstance(core, SingleTurnEnv) and not overrides_any(type(core), SingleTurnEnv, ("respond", "begin_turn"))


def env_label(env: Any) -> str:
    """An env's registered id (``rlvr/ToolMath-v0``), else its class name: for error messages."""
    spec_id = getattr(getattr(env, "spec", None), "id", None)
    return str(spec_id) if spec_id else type(getattr(env, "unwrapped", env)).__name__
