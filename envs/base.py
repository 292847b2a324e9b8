"""Base classes of rlvr's text environments: `TextEnv` (multi-turn) and `SingleTurnEnv`.

An rlvr environment is a `gymnasium.Env` whose observations and actions are text. An episode is
a conversation about one `Task`: `reset()` returns the prompt, each `step(action)` takes one model
turn and returns what the environment says next (a tool result, feedback, or "" once the episode
has ended with a final answer; at a `max_turns` truncation, the reply to the last turn), the
reward of that turn, and an `info` dict with the conversation so far as OpenAI-style messages,
the reward's parts and the `Verdict`.

Subclasses implement `respond()` (what one model turn leads to) and usually `make_prompt()`;
everything else — seeding, task selection, message bookkeeping, reward weighting, over-long
answers, turn limits, infrastructure failures and the version fingerprint — lives here so that
every environment behaves the same from the trainer's side.
"""

from __future__ import annotations

import copy
import inspect
import json
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Mapping, NamedTuple, Sequence

import gymnasium as gym

from rlvr.envs.errors import did_you_mean
from rlvr.envs.fingerprint import Fingerprint
from rlvr.envs.interning import Interned
from rlvr.envs.rewards import PARTS, RewardWeights, add_parts, combine, zero_parts
from rlvr.envs.spaces import TextSpace
from rlvr.envs.tasks import IndexDraws, Task, TaskSource, check_index, is_missing
from rlvr.envs.toolcalls import openai_tool_calls
from rlvr.verifiers.verdict import Verdict

#: Default cap on one model turn, in characters. Longer actions are scored wrong ("over-long").
DEFAULT_MAX_ACTION_CHARS = 16384
#: Cap on what the environment may say (prompts, tool results), in characters: the observation
#: space's `max_length`. A longer prompt raises at reset (`TextEnv._begin_episode`), never cut.
DEFAULT_MAX_OBS_CHARS = 1 << 20


class InfrastructureError(RuntimeError):
    """Verification itself failed (sandbox down, verifier crashed) and `on_infra_error="raise"`."""


class BatchVerify(NamedTuple):
    """A verification that can run in one call together with other envs' requests.

    Attributes:
        key: requests with equal keys are answered by one `run` call (e.g. ("math", timeout)).
        run: verifies a list of payloads and returns one Verdict per payload, in order.
        payload: what `run` needs for this env's turn (e.g. (gold, completion)).

    A named tuple (immutable, like the frozen dataclass it was) because one is built per env and
    step: a frozen dataclass's `__init__` costs ~1.5 us, a named tuple's ~0.3 us.
    """

    key: Hashable
    run: Callable[[list[Any]], list[Verdict]]
    payload: Any


@dataclass
class Turn:
    """What the environment makes of one model turn (returned by `TextEnv.respond`).

    Attributes:
        observation: what the environment says next, at most `max_obs_chars` characters (the
            observation space; a longer one raises in `TextEnv.end_turn`). Ignored when `done`
            (the step's observation is then ""); kept when the turn is the last of `max_turns`
            (the truncated step returns it, see `TextEnv`).
        done: True when the episode is over (a final answer was given).
        verdict: the outcome `Verdict` when `done`, else None.
        parts: this turn's reward parts (`outcome`, `format`, `process`).
        messages: OpenAI-style messages the environment adds to the conversation (tool results,
            feedback); the assistant's own message is added by `TextEnv.step`.
        details: extra facts about this turn, copied into `info["turn_details"]`.
    """

    observation: str = ""
    done: bool = False
    verdict: Verdict | None = None
    parts: dict[str, float] = field(default_factory=zero_parts)
    messages: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


#: The keys of an action dict that are read: its text, its calls (`tool_calls`, or OpenAI's legacy
#: single `function_call`) and its role.
ACTION_KEYS = ("role", "content", "tool_calls", "function_call")
#: Keys OpenAI-compatible engines and clients put in an assistant message that are knowingly not
#: read: a refusal or audio reply has no answer to score (its text, if any, is `content`), `name`,
#: `annotations` (citations) and a client's own fields (litellm's `provider_specific_fields`,
#: `images`) say nothing to score, and reasoning (`reasoning_content`, `reasoning`,
#: `reasoning_details`, `thinking`, `thinking_blocks`, `reasoning_items`, as servers and clients
#: variously name it) is not the answer. Other keys are not read either; only one close to a read
#: key (a typo) raises (`_check_action_keys`).
IGNORED_ACTION_KEYS = frozenset({"refusal", "audio", "name", "annotations", "reasoning_content", "reasoning",
                                 "reasoning_details", "thinking", "thinking_blocks", "reasoning_items",
                                 "provider_specific_fields", "images"})
_READ_OR_IGNORED = frozenset(ACTION_KEYS) | IGNORED_ACTION_KEYS


def split_action(action: Any) -> tuple[str, list[dict[str, Any]] | None]:
    """Split an action into its text and its OpenAI-style `tool_calls` (None when absent).

    An action is the model's text, or an assistant message dict `{"content": ..., "tool_calls":
    [...]}` as an OpenAI-compatible engine returns it. Content given as OpenAI content parts
    (`[{"type": "text", "text": ...}, ...]`, all of type "text") is their texts joined; other
    non-text content is its JSON text. A legacy `function_call` (one call, no id) is read as a
    `tool_calls` list of that one call, so it runs and is recorded in OpenAI's shape with an id
    (`openai_tool_calls`). Other keys are not read (`IGNORED_ACTION_KEYS` names the usual ones),
    but one close to a read key and holding a value (a typo such as `tool_call`) raises TypeError
    rather than have its calls or text silently dropped, and so does a `role` other than "assistant"
    (a user or tool message handed over as the model's turn).
    """
    if type(action) is str:  # the usual case, checked first: this runs at every step
        return action, None
    if isinstance(action, str):  # a str subclass: handed on as a plain str
        return str(action), None
    if isinstance(action, Mapping):
        _check_action_keys(action)
        content = action.get("content") or ""
        if not isinstance(content, str):
            content = _text_parts(content)
            if content is None:
                content = json.dumps(action.get("content"), default=str)
        calls = _action_calls(action)
        return content, list(calls) if calls else None
    raise TypeError(
        f"an action must be the model's text (str) or an assistant message dict with 'content' and "
        f"optional 'tool_calls'; got {type(action).__name__}"
    )


def _check_action_keys(action: Mapping[Any, Any]) -> None:
    """Raise TypeError for a `role` other than "assistant", and for a key that looks like a
    misspelt read key (`did_you_mean` finds one) and holds a value: what it holds would be lost.
    Any other key is a client's or server's own field (litellm, vLLM and others add their own),
    not read; None holds nothing, so a misspelt key holding None is no error either."""
    role = action.get("role")
    if role is not None and role != "assistant":
        raise TypeError(f"an action dict is the model's turn, so its 'role' must be 'assistant' (or absent), got "
                        f"{role!r}: was another message of the conversation handed over?")
    typos = [str(key) for key, value in action.items()
             if key not in _READ_OR_IGNORED and value is not None and did_you_mean([str(key)], ACTION_KEYS)]
    if typos:
        raise TypeError(
            f"an assistant message dict has keys that are not read: {', '.join(map(repr, typos))}"
            f"{did_you_mean(typos, ACTION_KEYS)}; the keys read are {', '.join(ACTION_KEYS)}"
        )


def _action_calls(action: Mapping[Any, Any]) -> Any:
    """The action dict's calls: its `tool_calls`, or its legacy `function_call` as a list of one
    OpenAI-style entry (no id: `call_ids` gives it one). Both at once raise: which to run is unclear."""
    calls = action.get("tool_calls")
    if calls is not None and not isinstance(calls, (list, tuple)):
        raise TypeError(f"an assistant message's 'tool_calls' must be a list of calls, got {type(calls).__name__}")
    function_call = action.get("function_call")
    if function_call is None:
        return calls
    if not isinstance(function_call, Mapping):
        raise TypeError("an assistant message's legacy 'function_call' must be a dict {'name': ..., 'arguments': ...}, "
                        f"got {type(function_call).__name__}")
    if calls:
        raise TypeError("an assistant message has both 'tool_calls' and the legacy 'function_call'; give its calls "
                        "as 'tool_calls' only")
    return [{"type": "function", "function": dict(function_call)}]


def _text_parts(content: Any) -> str | None:
    """The text of OpenAI content parts (a list of `{"type": "text", "text": str}`), joined; None
    for anything else. (As JSON text, a tool call in a part had its quotes escaped and was read
    as the model's malformed call.)"""
    if not isinstance(content, (list, tuple)) or not content:
        return None
    texts = [part.get("text") for part in content if isinstance(part, Mapping) and part.get("type") == "text"]
    if len(texts) != len(content) or not all(isinstance(text, str) for text in texts):
        return None
    return "".join(texts)


def _copy_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy the caller may modify: new dicts (message values are strings, except tool_calls)."""
    return [_copy_message(m) if "tool_calls" in m else dict(m) for m in messages]


def _copy_message(message: dict[str, Any]) -> dict[str, Any]:
    copied = dict(message)
    copied["tool_calls"] = copy.deepcopy(copied["tool_calls"])
    return copied


def opening_messages(system_prompt: str | None, prompt: str) -> list[dict[str, Any]]:
    """The messages an episode opens with: the system prompt (when there is one) and the prompt."""
    if system_prompt:
        return [{"role": "system", "content": system_prompt}, {"role": "user", "content": prompt}]
    return [{"role": "user", "content": prompt}]


def failed_turn(env: "TextEnv", exc: Exception) -> Turn:
    """The Turn of a response that raised (a verifier crash): an infrastructure failure, never a
    wrong answer. The same whether the env was stepped whole or in phases by a vector env."""
    return Turn(done=True, verdict=Verdict.failed(f"{type(env).__name__}.respond raised {type(exc).__name__}: {exc}"))


def out_of_range(parts: Mapping[str, Any]) -> str | None:
    """The first reward part of `parts` (outcome, format, process; a missing one counts as 0, other
    keys are not read) that is not a number in [0, 1] (NaN, inf, 7.0, None), or None when all
    are. A hook that gives such a part fails the verification: it would be a reward of nan or 7,
    reported as valid (the rule `scoring.as_verdict` applies to verifiers)."""
    for name in PARTS:
        if name not in parts:
            continue
        value = parts[name]
        try:
            if 0.0 <= value <= 1.0:
                continue
        except (TypeError, ValueError):  # not a number (None, text; an array has no single truth)
            pass
        return name
    return None


def out_of_range_verdict(env: "TextEnv", part: str, value: Any) -> Verdict:
    """The failed verdict of a turn whose `part` came out as `value`, outside [0, 1]: an
    infrastructure failure (the env's hook is wrong), never a wrong answer. Names the hook."""
    hook = env.part_hooks.get(part, "respond")
    return Verdict.failed(f"{type(env).__name__}.{hook} gave the {part!r} reward part {value!r:.80}; every reward "
                          f"part must be a number in [0, 1] (NaN is none): fix {hook}")


#: The reward parts of a reset (all zero). Shared by every reset's `InfoFacts`, so it must never be
#: modified: `InfoFacts.to_info` and the vector env's columns only read it.
_RESET_PARTS: dict[str, float] = zero_parts()


class InfoFacts:
    """The facts behind one `info` dict of `TextEnv.step` or `TextEnv.reset`, not yet copied out.

    `step` and `reset` return `to_info()`, the documented dict, which copies everything a caller
    may modify (messages, reward parts, turn details). `TextVectorEnv` instead gathers the facts of
    all its sub-envs straight into Gymnasium's dict-of-arrays layout (`rlvr.envs.vector`), without
    first building one dict per sub-env and then batching the dicts: both read the same facts, so a
    vector info holds exactly what the sub-envs' own infos would.

    Nothing here is ever modified once built (on the next turn the env replaces its messages list,
    parts and return parts with new objects), which is why no copy is taken until the facts are
    read out.

    Attributes:
        task_id, turn: `info["task_id"]`, `info["turn"]`.
        messages: the conversation so far: the env's own list of message dicts, which the env
            replaces instead of modifying. The env never modifies a message once added and holds
            only messages it made (or copied), so once it has been reset, no one else can see
            this list or its dicts: `TextVectorEnv` then hands them out as they are
            (`final_info`); otherwise they are read out as a new list of new dicts.
        parts, return_parts, weights: `reward_parts`, `return_parts`, `reward_weights`.
        verdict: the outcome `Verdict` or None; `valid` and `error` derive from it.
        fingerprint: the env's immutable `Fingerprint`.
        details: `turn_details` (deep-copied when read out), or None for {}.
        extra: more keys added to the info (`TextEnv.reset_details` at reset), or None.
    """

    __slots__ = ("task_id", "turn", "messages", "parts", "return_parts", "weights", "verdict", "fingerprint", "details", "extra")

    def __init__(self, task_id: Any, turn: int, messages: list[dict[str, Any]], parts: dict[str, float],
                 return_parts: dict[str, float], weights: dict[str, float], verdict: Verdict | None,
                 fingerprint: Fingerprint, details: dict[str, Any] | None, extra: dict[str, Any] | None) -> None:
        self.task_id = task_id
        self.turn = turn
        self.messages = messages
        self.parts = parts
        self.return_parts = return_parts
        self.weights = weights
        self.verdict = verdict
        self.fingerprint = fingerprint
        self.details = details
        self.extra = extra

    def to_info(self) -> dict[str, Any]:
        """The `info` dict (see `TextEnv`), with copies of everything the caller may modify."""
        verdict = self.verdict
        error = verdict.error if verdict is not None else None
        info: dict[str, Any] = {
            "task_id": self.task_id,
            "turn": self.turn,
            "messages": _copy_messages(self.messages),
            "reward_parts": dict(self.parts),
            "return_parts": dict(self.return_parts),
            "reward_weights": dict(self.weights),
            "verdict": verdict,
            "valid": error is None,
            "fingerprint": self.fingerprint,
            "turn_details": copy.deepcopy(self.details) if self.details else {},
        }
        if error is not None:
            info["error"] = error
        if self.extra:
            info.update(self.extra)
        return info


class Setting:
    """A setting the env's fingerprint records, declared on the class that owns it (`max_turns =
    Setting("_checked_positive")`): assigning it, in `__init__` or later, drops the env's cached
    fingerprint, so the next step's `info["fingerprint"]` names the new value.

    Only `__set__` and `__delete__` (which refuses) are defined, no `__get__`: a read finds the
    value in the instance's `__dict__` as for a plain attribute, so the settings the step path reads
    cost next to nothing extra.
    The first `__set__` of an env replaces the `__dict__` CPython made for it on demand (a
    "split" dict, which CPython 3.11 and 3.12 cannot specialise attribute access on: every read
    and write of every attribute of the env took about 30 ns more) by a plain copy.

    Args:
        check: None, or the name of an env method `check(name, value) -> value` run first: it
            refuses a bad value (the error `__init__` would give) and may update what depends on
            the setting (`max_action_chars` rebuilds `action_space`). A name, not a function, so
            a subclass may override the method.
        fixed: True for a setting built into other objects when the env is built (a tool's time
            limit, the generator's difficulty): it may be set once, and a later assignment raises
            AttributeError (the fingerprint would name a value the env does not use).
    """

    __slots__ = ("name", "check", "fixed")

    def __init__(self, check: str | None = None, *, fixed: bool = False) -> None:
        self.name = ""
        self.check = check
        self.fixed = fixed

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __set__(self, env: Any, value: Any) -> None:
        values, name = env.__dict__, self.name
        if "_fingerprint" not in values:  # the env's first setting: a plain dict (see above)
            values = dict(values)
            env.__dict__ = values
        if self.fixed and name in values:
            raise AttributeError(f"{type(env).__name__}.{name} is fixed when the env is built (it is built into the "
                                 f"env's tools or tasks); make a new env with {name}={value!r:.80}")
        if self.check is not None:
            value = getattr(env, self.check)(name, value)
        values[name] = value
        values["_fingerprint"] = None  # it names this setting: made again at the next step

    def __delete__(self, env: Any) -> None:
        """Refuse `del env.<setting>`: the env reads every setting on each step and its fingerprint
        names each, so there is no value to fall back on; say what to do instead."""
        kind, name = type(env).__name__, self.name
        fix = f"make a new env with the {name} you want" if self.fixed else f"assign a new value (env.{name} = ...)"
        raise AttributeError(f"{kind}.{name} is a setting the env's fingerprint records and cannot be deleted; {fix}")


def positive_int(name: str, value: Any, meaning: str) -> int:
    """`value`, an env setting named `name`, as a positive int (a NumPy integer too), or a
    ValueError naming it and what it means: a bool, "4" or 2.9 would be a setting read by a guess."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int ({meaning}), got {value!r}")
    return int(value)


def accepted_arguments(kind: type) -> list[str]:
    """The keyword arguments the `__init__`s of `kind` (its own and its bases', up to TextEnv)
    take by name, in MRO order (`rlvr.register` checks a registration's arguments against them)."""
    accepted: list[str] = []
    for cls in kind.__mro__:
        if "__init__" not in cls.__dict__ or not issubclass(cls, TextEnv):
            continue
        try:
            params = inspect.signature(cls.__dict__["__init__"]).parameters.values()
        except (TypeError, ValueError):  # an `__init__` inspect cannot read: its names go unlisted
            continue
        for param in params:
            if param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD) and param.name not in ("self", "source"):
                if param.name not in accepted:
                    accepted.append(param.name)
    return accepted


def unknown_arguments_message(kind: type, unknown: Mapping[str, Any]) -> str:
    """The error for keyword arguments no `__init__` of `kind` (its own and its bases', up to
    TextEnv) takes: each named, with the closest accepted name, and the accepted names listed."""
    accepted = accepted_arguments(kind)
    return (f"{kind.__name__} got unexpected keyword argument(s) {', '.join(map(repr, unknown))}"
            f"{did_you_mean(unknown, accepted)}; it takes {accepted}")


class TextEnv(gym.Env[str, str]):
    """A conversation with a language model about one task, scored by a verifier.

    The main API methods that users of this class need to know are:

    - :meth:`reset` - Starts an episode on a new task and returns the prompt and ``info``.
      ``options={"index": i}`` selects the i-th task of the env's source (for evaluation and
      tests); ``options={"task": Task(...)}`` runs a given task; otherwise the task is drawn with
      the env's seeded generator (:attr:`np_random`), so ``reset(seed=s)`` is reproducible.
    - :meth:`step` - Takes one model turn (its text, or an assistant message dict with OpenAI-style
      ``tool_calls``) and returns ``(observation, reward, terminated, truncated, info)``:

      - ``observation`` (str): what the environment says next — a tool result or feedback in a
        multi-turn env, ``""`` once the episode is terminated (a final answer, an over-long turn,
        a failed verification). At a ``max_turns`` truncation it is the env's reply to the last
        turn (e.g. the tool responses), as Gymnasium's ``TimeLimit`` returns the real next
        observation: what a value function bootstraps from (a vector env reports it as
        ``info["final_obs"]``).
      - ``reward`` (float): this turn's reward, the weighted sum of ``info["reward_parts"]``
        (see :class:`~rlvr.envs.rewards.RewardWeights`).
      - ``terminated`` (bool): the model gave a final answer (right or wrong), or an over-long turn.
      - ``truncated`` (bool): ``max_turns`` turns were used without a final answer.
      - ``info`` (dict): ``task_id``; ``turn``; ``messages`` (the conversation so far as
        OpenAI-style messages, system prompt included); ``reward_parts`` (this turn's parts:
        ``outcome``, ``format``, ``process``); ``return_parts`` (their sum over the episode);
        ``reward_weights``; ``verdict`` (the outcome :class:`~rlvr.verifiers.verdict.Verdict`
        once the episode ends, else None); ``valid`` (False when verification itself failed —
        such a sample must be dropped, never trained on as a zero reward; ``error`` says why);
        ``fingerprint`` (an immutable :class:`~rlvr.envs.fingerprint.Fingerprint`: env id and
        version, verifier and its settings, dataset revision or file hash, generator settings;
        ``.digest`` labels results, ``.to_dict()`` serialises it); ``turn_details`` (env-specific facts about the turn).
    - :meth:`render` - With ``render_mode="ansi"``, the conversation as text.
    - :meth:`close` - Releases what the env itself holds (see the subclass; by default nothing).
      Safe to call more than once. Sandboxes the env did not create — the one passed as
      ``sandbox=``, or the sandbox shared by every env of the process — are never closed.

    The main attributes are:

    - :attr:`action_space` - a :class:`~rlvr.envs.spaces.TextSpace` of up to ``max_action_chars``
      characters. A longer action is not an error: it is scored wrong as "over-long". An
      assistant message dict is an action too (``action_space.contains`` is for text only); its
      size is its text plus each tool call's name and arguments (a JSON string as given; other
      arguments as their JSON), so a turn is capped the same whichever form its calls take.
    - :attr:`observation_space` - a :class:`~rlvr.envs.spaces.TextSpace` of up to
      ``max_obs_chars`` characters. Every observation is in it: a longer prompt raises at reset.
    - :attr:`source` - the :class:`~rlvr.envs.tasks.TaskSource` the tasks come from.
    - :attr:`task` - the current task.

    Model output is never an error: any text gets a verdict. Stepping before ``reset`` or after the
    episode ended raises ``gymnasium.error.ResetNeeded``.

    Args:
        source: where the tasks come from.
        max_turns: model turns allowed per episode; reaching it without a final answer truncates.
        reward_weights: weights of the reward parts, e.g. ``{"outcome": 1.0, "format": 0.1}``.
        system_prompt: optional system message put at the start of ``info["messages"]``.
        max_action_chars: longest model turn scored normally (text, and tool calls' names and
            arguments), an int >= 1.
        max_obs_chars: longest observation (prompt or reply), an int >= 1 (default
            ``DEFAULT_MAX_OBS_CHARS``). A reset whose prompt is longer raises ValueError naming it.
        on_infra_error: ``"flag"`` (default: ``info["valid"] = False``, reward 0) or ``"raise"``
            (raise :class:`InfrastructureError`) when verification itself fails.
        render_mode: None or ``"ansi"``.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4}
    #: Short name used in task ids and fingerprints.
    env_name: str = "Text"
    #: The keys ``reset(options=...)`` takes (any other raises, rather than being ignored).
    reset_options: frozenset[str] = frozenset(("index", "task"))
    #: Whether a task given to ``reset(options={"task": ...})`` must have a gold answer: False for
    #: an env whose verifier never reads it (Countdown checks the expression against the target).
    given_task_needs_answer: bool = True
    #: The hook each reward part comes from (for the error of a part outside [0, 1]): the outcome
    #: is the score of the verdict `respond` gives, the other parts are in its `Turn`.
    part_hooks: Mapping[str, str] = {"outcome": "respond", "format": "respond", "process": "respond"}

    # settings the fingerprint records (see `Setting`); a reassignment is checked as in `__init__`
    source = Setting("_checked_source")
    max_turns = Setting("_checked_positive")
    max_action_chars = Setting("_checked_positive")
    max_obs_chars = Setting("_checked_positive")

    def __init__(
        self,
        source: TaskSource,
        *,
        max_turns: int = 1,
        reward_weights: RewardWeights | Mapping[str, float] | None = None,
        system_prompt: str | None = None,
        max_action_chars: int = DEFAULT_MAX_ACTION_CHARS,
        max_obs_chars: int = DEFAULT_MAX_OBS_CHARS,
        on_infra_error: str = "flag",
        render_mode: str | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:  # a misspelled argument a subclass passed on: name it and what the env takes
            raise TypeError(unknown_arguments_message(type(self), unknown))
        if on_infra_error not in ("flag", "raise"):
            raise ValueError(f"on_infra_error must be 'flag' or 'raise', got {on_infra_error!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        for name in ("reward_weights", "system_prompt"):
            if not isinstance(inspect.getattr_static(type(self), name), property):
                raise TypeError(f"{type(self).__name__} sets {name} as a class attribute, which TextEnv would ignore; "
                                f"pass it to TextEnv.__init__ instead (super().__init__(..., {name}=...))")
        self.source = source
        self.max_turns = max_turns
        self.reward_weights = reward_weights
        self.system_prompt = system_prompt
        self.max_action_chars = max_action_chars  # (and action_space, see `_checked_positive`)
        self.max_obs_chars = max_obs_chars  # (and observation_space)
        self.on_infra_error = on_infra_error
        self.render_mode = render_mode
        self.task: Task | None = None
        #: The conversation so far. Replaced, never modified in place (see `InfoFacts`): infos'
        #: facts hold the list of their moment without copying it.
        self._messages: list[dict[str, Any]] = []
        self._turn = 0
        self._done = True
        self._return_parts = zero_parts()
        self._verdict: Verdict | None = None
        self._fingerprint: Fingerprint | None = None  # and the spec it was made for:
        self._fingerprint_spec: Any = None
        self._task_draws = IndexDraws()

    # ------------------------------------------------------------------ settings that may be changed

    @property
    def reward_weights(self) -> RewardWeights:
        """The weights of the reward parts. May be reassigned (a `RewardWeights` or a mapping such
        as ``{"outcome": 1.0, "format": 0.1}``, checked as in `__init__`): the next step uses them
        and the fingerprint names them."""
        return self._reward_weights

    @reward_weights.setter
    def reward_weights(self, value: RewardWeights | Mapping[str, float] | None) -> None:
        # envs with equal weights share one (frozen) RewardWeights and one dict of them: fewer
        # objects for a vector env to read at every step
        self._reward_weights, self._weights_dict = _shared_weights(RewardWeights.coerce(value))
        self._fingerprint = None  # it names the weights

    @property
    def system_prompt(self) -> str | None:
        """The system message that opens each episode (None: none). May be reassigned: the next
        reset uses it and the fingerprint names it."""
        return self._system_prompt

    @system_prompt.setter
    def system_prompt(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"system_prompt must be a str or None, got {type(value).__name__}")
        self._system_prompt = value
        self._fingerprint = None  # it names the system prompt

    #: What each setting declared with `Setting("_checked_positive")` means (for its error).
    _POSITIVE_MEANINGS: dict[str, str] = {
        "max_turns": "the most turns of an episode",
        "max_action_chars": "the longest model turn scored normally, in characters",
        "max_obs_chars": "the longest prompt or reply the env may give, in characters",
    }

    def _checked_source(self, name: str, value: Any) -> TaskSource:
        if not isinstance(value, TaskSource):
            raise TypeError(f"source must be a TaskSource, got {type(value).__name__}")
        return value

    def _checked_positive(self, name: str, value: Any) -> int:
        """A positive int setting (`positive_int`); the action and observation spaces follow the
        caps they are made of."""
        value = positive_int(name, value, self._POSITIVE_MEANINGS.get(name, "a count"))
        if name == "max_action_chars":
            self.action_space = TextSpace(value)
        elif name == "max_obs_chars":
            self.observation_space = TextSpace(value)
        return value

    # ------------------------------------------------------------------ hooks for subclasses

    def make_prompt(self, task: Task) -> str:
        """The user message that opens the episode. Default: the question as is."""
        return task.question

    def respond(self, task: Task, content: str, tool_calls: list[dict[str, Any]] | None) -> Turn:
        """What one model turn (`content`, and `tool_calls` when the engine gave them) leads to."""
        raise NotImplementedError

    def verifier_fingerprint(self) -> dict[str, Any]:
        """The verifier and its settings, for `info["fingerprint"]`."""
        return {"name": type(self).__name__}

    def settings(self) -> dict[str, Any]:
        """Env settings that change what is asked or how it is scored (for the fingerprint)."""
        return {}

    def reset_details(self) -> dict[str, Any]:
        """Extra `info` entries at reset (e.g. tool schemas). Must return new objects each call."""
        return {}

    # ------------------------------------------------------------------ Gymnasium API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Starts an episode on a new task and returns its prompt and ``info``.

        Args:
            seed: seeds :attr:`np_random` (Gymnasium's rule: once, then on every reset that passes
                one), so the tasks drawn after ``reset(seed=s)`` are always the same.
            options: ``{"index": i}`` runs the i-th task of :attr:`source` (an int; IndexError when
                out of range); ``{"task": Task(...)}`` or ``{"task": {"question": ..., "answer": ...}}``
                runs that task; nothing draws a task with :attr:`np_random`. Other keys raise.

        Returns:
            observation (str): the prompt, the user message the model answers.
            info (dict): as :meth:`step`'s (see the class docs), for turn 0: ``task_id``, ``turn`` 0,
                ``messages`` (system prompt and the prompt), zero ``reward_parts`` and
                ``return_parts``, ``reward_weights``, ``verdict`` None, ``valid`` True,
                ``fingerprint``, ``turn_details``, and env-specific entries (ToolMath's ``tools``).

        Raises:
            ValueError: an unknown option, both ``index`` and ``task``, a task whose question is
                not non-empty text, one without a gold answer (where the env's verifier reads
                one: ``given_task_needs_answer``) or with fields the env cannot score
                (:meth:`check_given_task`: a Countdown task without ``numbers``), or a prompt
                longer than ``max_obs_chars``.
            TypeError: an ``index`` that is not an int (True, 1.0), or a ``task`` of another type.
            IndexError: an ``index`` outside the source (negative ones count from the end).
        """
        prompt, facts = self.reset_facts(seed=seed, options=options)
        return prompt, facts.to_info()

    def reset_facts(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, InfoFacts]:
        """`reset`, with the info's facts instead of the dict (for `TextVectorEnv`; see `InfoFacts`)."""
        super().reset(seed=seed)
        prompt = self._begin_episode(self._choose_task(options))
        facts = InfoFacts(self.task.id, 0, self._messages, _RESET_PARTS, _RESET_PARTS, self._weights(),
                          None, self.fingerprint(), None, self.reset_details() or None)
        return prompt, facts

    def _choose_task(self, options: dict[str, Any] | None) -> Task:
        """The task `reset(options=...)` asks for: given, by index, or drawn with `np_random`.

        A given task is a Task, or a dict with 'question', 'answer' and optionally 'id' (other keys
        go to `Task.meta`). Its question must be non-empty text, as a dataset row's or a
        generator's must (None would be prompted as 'None'), and one without a gold answer (None,
        NaN) is refused, as it would be scored against the text 'None' (unless the env's verifier
        reads no gold: `given_task_needs_answer`). An index must be an int (`check_index`: True or
        1.0 is refused). Both together are refused: one of them would be ignored.
        """
        if options:
            unknown = sorted(map(str, set(options) - self.reset_options))
            if unknown:
                raise ValueError(f"unknown reset option(s) {unknown}; {type(self).__name__}.reset takes options "
                                 f"{sorted(self.reset_options)}")
        if options and "task" in options:
            if options.get("index") is not None:
                raise ValueError(f"reset options 'task' and 'index' were both given (index {options['index']!r}); "
                                 f"give one: 'task' runs that task, 'index' picks one of the env's tasks")
            task = options["task"]
            if isinstance(task, Mapping):
                if "question" not in task:
                    raise ValueError(f"options['task'] has no 'question' (its keys: {sorted(map(str, task))}); give the question text")
                task = Task(str(task.get("id", "custom")), task["question"], task.get("answer"),
                            {k: v for k, v in task.items() if k not in ("id", "question", "answer")})
            if not isinstance(task, Task):
                raise TypeError(f"options['task'] must be a Task or a dict with 'question'/'answer', got {type(task).__name__}")
            question = task.question
            if not isinstance(question, str) or not question.strip():  # the rule of dataset rows and generators
                raise ValueError(f"options['task'] 'question' is empty or not text ({question!r:.80}): it must be "
                                 f"non-empty text (the model would be prompted with it); give the question text")
            if self.given_task_needs_answer and is_missing(task.answer):
                raise ValueError(f"options['task'] has no gold answer ({task.answer!r}); give the 'answer' the verifier checks")
            return self.check_given_task(task)
        if options and options.get("index") is not None:
            return self.source.get(check_index(options["index"]))  # a bool or 1.0 is no index
        return self._draw_task()

    def check_given_task(self, task: Task) -> Task:
        """A task given to `reset(options={"task": ...})`, checked before its episode starts: the
        task, or a copy with unambiguous spellings made exact (a CSV's "10" for an integer), or a
        ValueError naming what is missing or unreadable. Without it a bad task would fail at the
        step as an infrastructure failure. Default: the task as given."""
        return task

    def _draw_task(self) -> Task:
        """A task drawn from the source with this env's generator (`np_random`)."""
        tasks = self.source.uniform_tasks
        if tasks is not None:  # a uniform draw from a list: the index from this env's own draws
            return tasks[self._task_draws.draw(self.np_random, len(tasks))]
        return self.source.sample(self.np_random)

    def _begin_episode(self, task: Task, prompt: str | None = None) -> str:
        """Start an episode on `task`: fresh episode state and messages; returns the prompt
        (`make_prompt(task)`, unless the caller already made it).

        A prompt longer than `max_obs_chars` would be an observation outside the observation
        space: it raises ValueError naming both lengths, before anything changes (never cut: the
        model would be asked a different question).
        """
        if prompt is None:
            prompt = self.make_prompt(task)
        if len(prompt) > self.max_obs_chars:
            raise ValueError(self._long_observation(f"the prompt of task {task.id!r}", prompt))
        self.task = task
        self._turn = 0
        self._done = False
        self._return_parts = _RESET_PARTS  # replaced, never modified, by end_turn
        self._verdict = None
        self._messages = opening_messages(self.system_prompt, prompt)
        return prompt

    def _long_observation(self, what: str, text: str) -> str:
        """The error message for `text`, an observation longer than `max_obs_chars`."""
        return (f"{type(self).__name__}: {what} has {len(text)} characters, more than max_obs_chars={self.max_obs_chars} "
                f"(the observation space's limit); build the env with max_obs_chars={len(text)} or more, or shorten it")

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Takes one model turn and returns what it leads to.

        Args:
            action: the model's turn: its text, or an assistant message dict (``{"content": ...,
                "tool_calls": [...]}``, OpenAI's shape) when the engine returned structured tool
                calls. Any text is a valid action: a wrong, malformed or over-long one is scored,
                never raised.

        Returns:
            observation (str): the env's reply (tool results, feedback); ``""`` once terminated;
                at a ``max_turns`` truncation, the reply to the last turn.
            reward (float): this turn's reward, the weighted sum of ``info["reward_parts"]``.
            terminated (bool): a final answer was given (right or wrong), or the turn was over-long.
            truncated (bool): ``max_turns`` turns passed without a final answer.
            info (dict): the conversation, the reward's parts, the verdict and the fingerprint
                (see the class docs for every key).

        Raises:
            gymnasium.error.ResetNeeded: stepping before :meth:`reset` or after the episode ended.
            TypeError: an action that is neither text nor a message dict.
            InfrastructureError: verification failed and ``on_infra_error="raise"`` (with the
                default ``"flag"``, ``info["valid"]`` is False instead); the episode then ends.
            ValueError: the env's reply is longer than ``max_obs_chars`` (the env's fault); the
                episode then ends.
        """
        content, tool_calls, turn = self.begin_turn(action)
        if turn is None:
            turn = self._respond_safely(content, tool_calls)
        return self.end_turn(turn)

    # ------------------------------------------------------------------ the phases of a step
    # `step` = begin_turn -> respond -> end_turn. `TextVectorEnv` calls the phases itself so that
    # the verification of many envs can run as one batch (see `batch_verify`).

    def begin_turn(self, action: Any) -> tuple[str, list[dict[str, Any]] | None, Turn | None]:
        """Record the model's turn; returns (content, tool_calls, Turn when already decided).

        A turn longer than `max_action_chars` is decided here: scored wrong as over-long. Its
        length is its text's plus, for OpenAI-style `tool_calls`, each call's name and arguments
        as the message records them (`openai_tool_calls`: a JSON string as given, other arguments
        as their JSON), so calls written as `<tool_call>` text and the same calls as `tool_calls`
        meet the same cap.
        """
        content, tool_calls = self.check_turn(action)
        size = len(content)
        assistant: dict[str, Any] = {"role": "assistant", "content": content}
        if tool_calls:  # recorded in OpenAI's shape, with the ids the tool replies will name
            recorded = assistant["tool_calls"] = openai_tool_calls(tool_calls, self._turn + 1)
            size += sum(len(call["function"]["name"]) + len(call["function"]["arguments"]) for call in recorded)
        # the episode changes only from here on: whatever raised above left it as it was
        self._turn += 1
        self._messages = [*self._messages, assistant]  # a new list: the last info's facts hold the old one
        if size > self.max_action_chars:
            what = "characters" if size == len(content) else "characters, counting its tool calls' names and arguments"
            return content, tool_calls, Turn(
                done=True,
                verdict=Verdict.wrong(
                    f"over-long: the turn has {size} {what}, more than max_action_chars={self.max_action_chars}",
                    details={"kind": "overlong"},
                ),
                details={"overlong": True},
            )
        return content, tool_calls, None

    def check_turn(self, action: Any) -> tuple[str, list[dict[str, Any]] | None]:
        """The action's (content, tool_calls) if this env can take it now; raises, changing nothing,
        if not (`ResetNeeded` for an ended episode, `TypeError` for what is not an action).

        A vector env checks every sub-env's action this way before stepping any of them.
        """
        if self.task is None or self._done:
            raise gym.error.ResetNeeded(
                "the episode is over (or never started): call env.reset() before env.step()"
            )
        return split_action(action)

    def _respond_safely(self, content: str, tool_calls: list[dict[str, Any]] | None) -> Turn:
        """`respond`, with an exception it raises made the turn's failure (`failed_turn`).

        `InfrastructureError`, `KeyboardInterrupt` and the like propagate; the turn is then half
        done (counted, the model's message recorded, no reply), so the episode ends unscored and
        the next step needs a reset rather than going on from a broken history."""
        try:
            return self.respond(self.task, content, tool_calls)
        except Exception as exc:
            if isinstance(exc, InfrastructureError):
                self._done = True
                raise
            return failed_turn(self, exc)  # a crashing verifier is an infrastructure failure
        except BaseException:
            self._done = True
            raise

    def batch_verify(self, task: Task, content: str, tool_calls: list[dict[str, Any]] | None) -> "BatchVerify | None":
        """A verification this turn needs that may run in one batch with other envs' (or None).

        When it returns a :class:`BatchVerify`, a vector env gathers the requests of all its
        sub-envs with equal ``key``, calls ``run`` once on their payloads, and hands each verdict
        to :meth:`complete_turn` instead of calling :meth:`respond`. One ``run`` serves every env
        of the batch, so it must depend on the payloads only. Default: None (respond).
        """
        return None

    def complete_turn(self, task: Task, content: str, tool_calls: list[dict[str, Any]] | None, verdict: Verdict) -> Turn:
        """The Turn for a turn whose :meth:`batch_verify` request was answered with `verdict`."""
        raise NotImplementedError(f"{type(self).__name__} returned a BatchVerify but does not implement complete_turn")

    def end_turn(self, turn: Turn) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Score the decided turn, update the episode and build `step`'s return value."""
        observation, reward, terminated, truncated, facts = self.end_turn_facts(turn)
        return observation, reward, terminated, truncated, facts.to_info()

    def end_turn_facts(self, turn: Turn) -> tuple[str, float, bool, bool, InfoFacts]:
        """`end_turn`, with the info's facts instead of the dict (for `TextVectorEnv`; see `InfoFacts`).

        The observation is "" when the episode terminates, else the turn's (at a `max_turns`
        truncation too: the reply to the last turn). A reply longer than `max_obs_chars` is the
        env's fault: ValueError naming it, and the episode ends unscored (the next step needs a reset).
        """
        truncated = False
        verdict = turn.verdict
        done = bool(turn.done)
        if verdict is None or verdict.error is None:  # every part a number in [0, 1], the outcome too
            parts = dict(turn.parts)
            if done and verdict is not None:
                parts["outcome"] = verdict.score
            try:  # the usual case, spelled out (this runs at every step); `out_of_range` says which
                in_range = 0.0 <= parts["outcome"] <= 1.0 and 0.0 <= parts["format"] <= 1.0 and 0.0 <= parts["process"] <= 1.0
            except (KeyError, TypeError, ValueError):
                in_range = False
            bad = None if in_range else out_of_range(parts)
            if bad is not None:  # the hook's fault, not the answer's: a failed verification that ends the episode
                verdict, done = out_of_range_verdict(self, bad, parts[bad]), True
        observation = "" if done else turn.observation
        if len(observation) > self.max_obs_chars:
            self._done = True  # not scored: the next step needs a reset
            raise ValueError(self._long_observation(f"the reply to turn {self._turn} of task {self.task.id!r}", observation))
        if not done and self._turn >= self.max_turns:
            truncated = True
            verdict = Verdict.wrong(
                f"no final answer within max_turns={self.max_turns}", details={"kind": "max_turns"}
            )
        if verdict is not None and verdict.error is not None:
            if self.on_infra_error == "raise":
                self._done = True  # not scored: the next step needs a reset
                raise InfrastructureError(f"verification failed on task {self.task.id}: {verdict.error}")
            parts = zero_parts()
        elif done and verdict is not None:
            parts["outcome"] = float(parts["outcome"])
        if turn.messages:  # copies: the env owns every message it holds (see `InfoFacts`)
            self._messages = [*self._messages, *_copy_messages(turn.messages)]
        self._return_parts = add_parts(self._return_parts, parts)
        self._verdict = verdict
        self._done = done or truncated
        facts = InfoFacts(self.task.id, self._turn, self._messages, parts, self._return_parts, self._weights(),
                          verdict, self.fingerprint(), turn.details or None, None)
        return observation, combine(parts, self.reward_weights), done, truncated, facts

    def render(self) -> str | None:
        """The conversation so far as text, one ``[role] content`` line per message (tool calls as
        JSON after their message), with ``render_mode="ansi"``; None with any other mode."""
        if self.render_mode != "ansi":
            return None
        lines = []
        for message in self._messages:
            text = message.get("content") or ""
            if message.get("tool_calls"):
                text += "\n" + json.dumps(message["tool_calls"], default=str)
            lines.append(f"[{message['role']}] {text}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ info

    @property
    def messages(self) -> list[dict[str, Any]]:
        """A copy of the conversation so far (OpenAI-style messages)."""
        return _copy_messages(self._messages)

    def fingerprint(self) -> Fingerprint:
        """What produced this env's results: env id and version, verifier, data, settings.

        Made once and remade when the spec (set by `gym.make` after `__init__`) or a setting it
        records is reassigned (`reward_weights`, `system_prompt`, and the settings declared with
        `Setting`; those built into the env's tools or tasks cannot be reassigned). A spec's
        `max_episode_steps` is recorded when set: it cuts episodes, so it changes returns.
        """
        spec = self.spec
        if self._fingerprint is None or self._fingerprint_spec is not spec:
            from rlvr.envs.version import rlvr_version

            limit = getattr(spec, "max_episode_steps", None)
            value = {
                "env_id": spec.id if spec is not None else type(self).__name__,
                "env_version": spec.version if spec is not None else None,
                "env_class": f"{type(self).__module__}.{type(self).__qualname__}",
                "rlvr_version": rlvr_version(),
                "verifier": self.verifier_fingerprint(),
                "data": self.source.fingerprint(),
                "settings": {
                    **self.settings(),
                    "max_turns": self.max_turns,
                    **({"max_episode_steps": limit} if limit is not None else {}),
                    "max_action_chars": self.max_action_chars,
                    "reward_weights": dict(self._weights()),
                    "system_prompt": self.system_prompt,
                },
            }
            self._fingerprint, self._fingerprint_spec = _shared_fingerprint(Fingerprint(value)), spec
        return self._fingerprint

    def _weights(self) -> dict[str, float]:
        """`reward_weights` as a dict, made when they are set.

        Never modified (infos copy it), so envs with the same weights share one dict
        (`_shared_weights`): a vector env then builds its `reward_weights` columns from one value.
        """
        return self._weights_dict


#: One `Fingerprint` per distinct record (a Fingerprint is immutable), so the envs of a vector env
#: share theirs and its `fingerprint` column is one value. Keyed by the whole record, not the
#: digest: copies of a data file at two paths have one digest but each env names its own path.
_FINGERPRINTS = Interned(limit=1024)

#: One (RewardWeights, dict) pair per distinct setting (see `TextEnv._weights`); keyed by the repr,
#: which tells apart what == does not (1 from 1.0, -0.0 from 0.0), so a shared dict holds exactly
#: the values an env's own `to_dict()` would.
_WEIGHT_DICTS = Interned(limit=1024)


def _shared_fingerprint(fingerprint: Fingerprint) -> Fingerprint:
    return _FINGERPRINTS.get(json.dumps(fingerprint.to_dict(), sort_keys=True), lambda: fingerprint)


def _shared_weights(weights: RewardWeights) -> tuple[RewardWeights, dict[str, float]]:
    return _WEIGHT_DICTS.get(repr(weights), lambda: (weights, weights.to_dict()))


def _verify_inline(payloads: list[tuple["SingleTurnEnv", Task, str]]) -> list[Verdict]:
    """`BatchVerify.run` for cheap in-process verifiers: one after the other, no threads."""
    out = []
    for env, task, content in payloads:
        try:
            verdict = env.verify(task, content)
            if not isinstance(verdict, Verdict):
                raise TypeError(f"{type(env).__name__}.verify must return a Verdict, got {type(verdict).__name__}")
        except Exception as exc:  # a crashing verifier is an infrastructure failure
            verdict = Verdict.failed(f"{type(env).__name__}.verify raised {type(exc).__name__}: {exc}")
        out.append(verdict)
    return out


#: The `SingleTurnEnv` hooks that make a turn's ``process`` part: overriding one may pay it.
PROCESS_HOOKS = ("process_score", "score_parts", "complete_turn", "respond")


def overrides_any(kind: type, base: type, names: Sequence[str]) -> bool:
    """True when class `kind` defines any of the methods `names` otherwise than `base` does."""
    return any(getattr(kind, name) is not getattr(base, name) for name in names)


#: Said by the refusals of settings that did nothing (and were once accepted): a training run
#: recorded them in its fingerprint, so leaving them out changes the setup it resumes with.
RESUME_HINT = "(a run started with it before can continue with --resume --allow-config-change after removing it)"


def single_turn_max_turns_message(kind: str, value: Any) -> str:
    """The error for `max_turns` other than 1 on the single-turn env class named `kind` (also
    raised by `rlvr.register`, before any env is built)."""
    return (f"{kind}: max_turns={value}, but this is a single-turn env: its first step always ends the episode, so "
            f"max_turns must be 1; for several turns use a multi-turn env (rlvr/ToolMath-v0, or a TextEnv subclass "
            f"whose respond() continues the episode) {RESUME_HINT}")


def unpaid_process_message(kind: str, weight: float, fix: str) -> str:
    """The error for a non-zero `process` weight on the env class named `kind`, which pays no process
    part; `fix` says what to do (also raised by `rlvr.register`, before any env is built)."""
    return (f"{kind}: reward_weights give the 'process' part the weight {weight}, but this env has no process reward, "
            f"so that part would always be 0; {fix} {RESUME_HINT}")


class SingleTurnEnv(TextEnv):
    """One prompt, one answer, one verdict: the episode ends after the first step.

    Subclasses implement :meth:`verify` and may implement :meth:`format_score` (credit for
    following the requested answer format, reported as the ``format`` reward part) and
    :meth:`process_score` (credit for the reasoning, the ``process`` part). A subclass
    whose ``verify`` is cheap, pure-Python work sets ``inline_verify = True``: a vector env then
    verifies its sub-envs one after the other instead of in threads (threads only add switching
    costs to work that holds the GIL).

    Settings that would do nothing are refused (ValueError): ``max_turns`` other than 1 (unless the
    subclass overrides ``respond`` or ``begin_turn`` to take several turns), and a non-zero
    ``process`` weight when the env pays no process part (`pays_process`).
    """

    #: True when `verify` is quick in-process work (no sandbox, no worker process, no I/O).
    inline_verify: bool = False
    part_hooks: Mapping[str, str] = {"outcome": "verify", "format": "format_score", "process": "process_score"}

    def pays_process(self) -> bool:
        """Whether the ``process`` reward part can ever be non-zero. SingleTurnEnv's own hooks pay
        0, so this is True only for a subclass that overrides one that makes the part
        (`PROCESS_HOOKS`); a subclass whose process reward is a setting says so itself (Math-v0's
        `process_reward`). A non-zero ``process`` weight on an env that pays nothing is refused."""
        return overrides_any(type(self), SingleTurnEnv, PROCESS_HOOKS)

    def process_weight_fix(self) -> str:
        """What to do about a non-zero ``process`` weight the env cannot pay (for the error)."""
        return "drop the 'process' weight"

    def _set_reward_weights(self, value: Any) -> None:
        """`TextEnv.reward_weights`' setter, refusing a non-zero ``process`` weight that nothing
        could pay: it would be accepted, recorded in the fingerprint, and add 0 to every reward."""
        weights = RewardWeights.coerce(value)
        if weights.process != 0 and not self.pays_process():
            raise ValueError(unpaid_process_message(type(self).__name__, weights.process, self.process_weight_fix()))
        TextEnv.reward_weights.fset(self, weights)

    reward_weights = TextEnv.reward_weights.setter(_set_reward_weights)

    def _checked_positive(self, name: str, value: Any) -> int:
        """`TextEnv`'s check; and `max_turns` must be 1 unless the class takes several turns (it
        overrides `respond` or `begin_turn`): the first step of a single-turn env always ends
        the episode, so any other value would only be recorded in the fingerprint."""
        value = super()._checked_positive(name, value)
        if name == "max_turns" and value != 1 and not overrides_any(type(self), SingleTurnEnv, ("respond", "begin_turn")):
            raise ValueError(single_turn_max_turns_message(type(self).__name__, value))
        return value

    def verify(self, task: Task, content: str) -> Verdict:
        """Score the model's answer to `task`."""
        raise NotImplementedError

    def format_score(self, task: Task, content: str) -> float:
        """1.0 when the answer follows the requested format, else 0.0 (default: always 0)."""
        return 0.0

    def respond(self, task: Task, content: str, tool_calls: list[dict[str, Any]] | None) -> Turn:
        return self.complete_turn(task, content, tool_calls, self.verify(task, content))

    def batch_verify(self, task: Task, content: str, tool_calls: list[dict[str, Any]] | None) -> BatchVerify | None:
        if self.inline_verify:
            return BatchVerify(("inline",), _verify_inline, (self, task, content))
        return None

    def process_score(self, task: Task, content: str) -> tuple[float, dict[str, Any] | None]:
        """The ``process`` reward part of an answer and the turn details saying why (default: 0, None)."""
        return 0.0, None

    def complete_turn(self, task: Task, content: str, tool_calls: list[dict[str, Any]] | None, verdict: Verdict) -> Turn:
        format_part, process_part, details = self.score_parts(task, content, verdict)
        return Turn(done=True, verdict=verdict, parts={"outcome": 0.0, "format": format_part, "process": process_part},
                    details=details if details is not None else {})

    def score_parts(self, task: Task, content: str, verdict: Verdict) -> tuple[float, float, dict[str, Any] | None]:
        """(format part, process part, turn details) of an answer the verifier gave `verdict`.

        What :meth:`complete_turn` puts in its Turn besides the verdict; `TextVectorEnv` calls it
        directly when it steps many single-turn envs column by column (`rlvr.envs.single_turn_batch`).
        """
        if not isinstance(verdict, Verdict):
            raise TypeError(f"{type(self).__name__}.verify must return a Verdict, got {type(verdict).__name__}")
        process_part, details = self.process_score(task, content)
        return float(self.format_score(task, content)), float(process_part), details
