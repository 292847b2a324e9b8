"""The registry: rlvr's built-in environments and `register()` for a user's own tasks.

Everything is registered with Gymnasium under the `rlvr/` namespace, so `gymnasium.make` and
`rlvr.make` build the same environments. `rlvr.make` also accepts ids without the namespace
("Math-v0") and, for an unknown id, says which ids exist and how to register a new one. Each id
also gets a `vector_entry_point`, so `gymnasium.make_vec` builds rlvr's `TextVectorEnv` as
`rlvr.envs.vector.make_vec` does (by default; `vectorization_mode="sync"` / `"async"` give
Gymnasium's own vector envs; "async" needs `vector_kwargs={"shared_memory": False}`).

Entry points are "module:attribute" strings, never callables, so `gymnasium.spec(id).to_json()`
works whenever the env arguments are JSON data (a generator function or an in-memory dataset is
not: then `json` refuses that argument). The strings that need an env id name it in the attribute
("rlvr.envs.registry:TextVectorEnv[rlvr/Math-v0]"), which this module's `__getattr__` resolves.
"""

from __future__ import annotations

import contextvars
import dataclasses

import difflib
import functools
import inspect
import os
import re
import reprlib
import types
from typing import Any, Callable, Mapping
from urllib.parse import quote, unquote

import gymnasium as gym
from gymnasium.envs.registration import find_highest_version, load_env_creator, parse_env_id

from rlvr.envs.base import SingleTurnEnv, accepted_arguments, positive_int, single_turn_max_turns_message, unpaid_process_message
from rlvr.envs.custom import DatasetEnv, GeneratorEnv, check_template
from rlvr.envs.errors import did_you_mean
from rlvr.envs.rewards import RewardWeights
from rlvr.envs.scoring import callable_identity, resolve_verifier
from rlvr.envs.tasks import DatasetError, GeneratorError, _is_hf_data, check_data_options
from rlvr.envs.vector import make_vec

NAMESPACE = "rlvr"

#: Built-in environments: id -> entry point (imported lazily, at make time).
BUILTIN_ENVS: dict[str, str] = {
    "rlvr/Arithmetic-v0": "rlvr.envs.procedural:ArithmeticEnv",
    "rlvr/Countdown-v0": "rlvr.envs.procedural:CountdownEnv",
    "rlvr/LinearEquation-v0": "rlvr.envs.procedural:LinearEquationEnv",
    "rlvr/Sort-v0": "rlvr.envs.procedural:SortEnv",
    "rlvr/ModArith-v0": "rlvr.envs.procedural:ModArithEnv",
    "rlvr/Math-v0": "rlvr.envs.math_env:MathEnv",
    "rlvr/Code-v0": "rlvr.envs.code_env:CodeEnv",
    "rlvr/ToolMath-v0": "rlvr.envs.tool_env:ToolMathEnv",
}

_ID = re.compile(r"^(?:[\w:.-]+/)?[\w:.-]+-v\d+$")
#: A version written with a leading zero ("-v01"): Gymnasium reads it as a number (1) and registers
#: "-v1", so the id given would then be found by nothing.
_LEADING_ZERO = re.compile(r"-v0(\d+)$")
#: Extensions of the local dataset files `load_table` reads (a path ending so is a file, never a hub id).
_DATASET_FILES = (".json", ".jsonl", ".parquet", ".csv")

#: attribute names of this module that stand for an env id's creator (see `__getattr__`)
_CREATOR = re.compile(r"(?P<kind>TextVectorEnv|DatasetEnv|GeneratorEnv)\[(?P<id>[^\[\]]+)\]")


class UnknownEnvError(gym.error.UnregisteredEnv):
    """No environment is registered under that id; the message lists the ids that exist."""


def register_builtin() -> None:
    """Register the built-in environments with Gymnasium (idempotent).

    Every rlvr id (these and `register`'s) is registered without Gymnasium's passive env checker:
    rlvr checks its actions, observations and spaces itself, and the checker breaks an env for
    good when its first `reset` is refused (Gymnasium 1.x marks the reset checked before it runs,
    then every later `step` fails on the missing first observation with an unrelated TypeError,
    however many good resets follow). `gymnasium.make(id, disable_env_checker=False)` still adds
    it; `gymnasium.utils.env_checker.check_env` is a separate check and passes.
    """
    for env_id, entry_point in BUILTIN_ENVS.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=entry_point, vector_entry_point=_creator_name("TextVectorEnv", env_id),
                         disable_env_checker=True)


def registered_ids() -> list[str]:
    """Every environment id in the rlvr namespace."""
    return sorted(env_id for env_id in gym.registry if env_id.startswith(NAMESPACE + "/"))


def _full_id(env_id: str) -> str:
    if not isinstance(env_id, str) or not env_id:
        raise TypeError(f"an env id must be a string like 'rlvr/Math-v0', got {env_id!r}")
    return env_id if "/" in env_id else f"{NAMESPACE}/{env_id}"


def make(env_id: str, **kwargs: Any) -> gym.Env:
    """Build a registered environment: `gymnasium.make` with rlvr's conventions.

    `env_id` may omit the namespace ("Countdown-v0") and, as with `gymnasium.make`, the version
    ("rlvr/MyTask": the latest registered version, with Gymnasium's warning). Keyword arguments go
    to the environment (difficulty settings, `dataset=`, `reward_weights=`...) or to
    `gymnasium.make` (`max_episode_steps`, `disable_env_checker`...). A `max_episode_steps` for a
    single-turn env (every procedural env, Math-v0, Code-v0, a registered dataset or generator
    task) raises a ValueError, as `register` does: its episodes end after one step, so the limit
    does nothing, except at 1, where every answer was marked truncated as well as terminated. So
    does any limit such an env's id was registered with (`gymnasium.register(..., max_episode_steps=)`):
    the error names the registration, not an argument the caller did not pass.
    """
    register_builtin()
    full = _full_id(env_id)
    if not _resolves(full):
        known = registered_ids()
        close = difflib.get_close_matches(full, known, n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise UnknownEnvError(
            f"no environment registered as {full!r}.{hint} Registered: {known}. "
            f"Register your own with rlvr.register({full!r}, dataset=..., question_key=..., "
            f"answer_key=..., verifier=...) or rlvr.register({full!r}, generator=fn)."
        )
    token = _IN_MAKE.set(True)
    try:
        env = gym.make(full, **_without_registered_data_options(full, kwargs))
    finally:
        _IN_MAKE.reset(token)
    # gym.make keeps a max_episode_steps in its TimeLimit wrapper and clears it from the env's own
    # spec; it cuts episodes, so it changes returns: the env's fingerprint must see it
    limit = env.spec.max_episode_steps if env.spec is not None else None
    if limit is not None and _single_turn(env.unwrapped):
        env.close()
        # the caller's argument, or (None or not given) the limit the id was registered with
        given = kwargs.get("max_episode_steps") is not None
        where = f"max_episode_steps={limit!r}" if given else f"{full!r} is registered with max_episode_steps={limit!r}"
        remedy = "drop it" if given else "re-register it without max_episode_steps"
        raise ValueError(f"rlvr.make({full!r}): {where}, but {type(env.unwrapped).__name__} episodes end after one step, "
                         f"so a step limit does nothing (at 1 it marked every answer truncated as well as terminated); {remedy}")
    if limit is not None and env.unwrapped.spec is not None:
        env.unwrapped.spec = dataclasses.replace(env.unwrapped.spec, max_episode_steps=limit)
    return env


def _single_turn(env: Any) -> bool:
    """Whether every episode of `env` ends after its first step: a `SingleTurnEnv` with one turn."""
    return isinstance(env, SingleTurnEnv) and getattr(env, "max_turns", 1) == 1


#: The arguments that say which part or version of a dataset to read: they belong to the dataset.
_DATA_OPTIONS = ("split", "config", "revision")
#: True while `make` builds an env: the data options `_build_with` is given then are the caller's own.
_IN_MAKE: contextvars.ContextVar[bool] = contextvars.ContextVar("rlvr_in_make", default=False)


def _without_registered_data_options(full: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """`kwargs` for `gymnasium.make(full)`, where a `dataset=` other than the registered one also
    sets the registration's `split` / `config` / `revision` the caller did not pass to None.

    `gymnasium.make` merges the spec's kwargs with the caller's: `rlvr.make(id, dataset=rows)` on
    an id registered over "openai/gsm8k" with config="main" gave the rows config="main", which rows
    do not have (refused, naming a config the caller never gave), and a hub dataset would have been
    read with another dataset's split. Those options describe the registered data and go with it;
    passed again to `make`, they are kept (and checked against the new data)."""
    spec = gym.registry.get(full)
    if "dataset" not in kwargs or spec is None or "dataset" not in spec.kwargs:
        return kwargs
    registered = _unwrapped(spec.kwargs["dataset"])
    if _same_data(registered, kwargs["dataset"]):
        return kwargs
    # a split name ("train", "test") means the same part of another hub dataset (a mirror, a newer
    # copy): kept from one hub id to another; a config or revision is the registered dataset's own
    keep = {"split"} if _is_hub_id(registered) and _is_hub_id(kwargs["dataset"]) else set()
    cleared = {key: None for key in _DATA_OPTIONS
               if spec.kwargs.get(key) is not None and key not in kwargs and key not in keep}
    return {**kwargs, **cleared} if cleared else kwargs


def _is_hub_id(dataset: Any) -> bool:
    """Whether `dataset` names a hub dataset ("openai/gsm8k"): text that is no local data path."""
    return isinstance(dataset, str) and _dataset_path(dataset) == dataset and not os.path.exists(os.path.expanduser(dataset))


def _same_data(registered: Any, given: Any) -> bool:
    """Whether `given` is the registered dataset: the same object, or the same hub id or path."""
    if registered is given:
        return True
    if isinstance(registered, str) and isinstance(given, (str, os.PathLike)):
        return registered in (os.fspath(given), _dataset_path(given))
    return False


def _resolves(full: str) -> bool:
    """True when `gymnasium.make(full)` finds an environment: one registered under `full`, or, for an
    id without a version ("rlvr/MyTask"), a version of that name (Gymnasium then builds the latest
    one and warns that it did, and so does `make`, which leaves this to it)."""
    if full in gym.registry:
        return True
    try:
        namespace, name, version = parse_env_id(full)
    except gym.error.Error:  # not an id Gymnasium can read: unknown
        return False
    return version is None and find_highest_version(namespace, name) is not None


class _Unset:
    """The default of `register`'s `dataset=` and `generator=`: not given at all (the decorator form),
    told apart from an explicit None (an unset `os.environ.get(...)`), which is refused."""

    def __repr__(self) -> str:
        return "<not given>"


_UNSET: Any = _Unset()


def register(
    env_id: str,
    *,
    dataset: Any = _UNSET,
    generator: Callable[..., Any] | None = _UNSET,
    question_key: str | None = None,
    answer_key: str | None = None,
    verifier: Any = None,
    prompt: Any = None,
    force: bool = False,
    **kwargs: Any,
) -> Any:
    """Register a task as a Gymnasium environment in a few lines.

    From a dataset (hub id, local json/jsonl/parquet/csv path, `datasets.Dataset` or list of dicts)::

        rlvr.register("rlvr/MyTask-v0", dataset="data/train.jsonl",
                      question_key="q", answer_key="a", verifier="math")

    From a generator `fn(rng, **settings) -> {"question": ..., "answer": ...}`::

        rlvr.register("rlvr/Add-v0", generator=make_addition, verifier="exact")

    or as a decorator on the generator: ``@rlvr.register("rlvr/Add-v0", verifier="exact")``.

    Args:
        env_id: "namespace/Name-vN" (the namespace defaults to "rlvr"); N without a leading zero
            ("-v01" is refused: Gymnasium would register it as "-v1").
        dataset / generator: where the tasks come from (exactly one). A local dataset path is
            made absolute now, so a later `os.chdir` does not change which file is read. Neither
            given is the decorator form; one given as None with the other not given (an unset
            `os.environ.get("MY_DATA")`) raises a ValueError rather than registering nothing.
        question_key / answer_key: dataset columns (default "question" / "answer").
        verifier: "math" (default for datasets), "code", "exact" (default for generators) or a
            callable fn(gold, completion) -> Verdict | bool | float.
        prompt: template string ("{question}", other columns by name) or callable(task) -> str.
        format_reward: what the `format` reward part credits (paid only under a non-zero `format`
            weight in `reward_weights`): "boxed" (a `\\boxed{}` that holds something), "answer_tags"
            (one non-empty `<answer></answer>` tag) or None (nothing). Default: "boxed" for the
            "math" verifier (as Math-v0; its default prompt asks for a box), None for the others.
            A non-zero `format` weight with no format reward raises a ValueError at make time.
        force: replace an existing registration of the same id.
        **kwargs: further env arguments stored as defaults (`split`, `config`, `revision`,
            `generator_settings`, `verifier_settings`, `reward_weights`, `system_prompt`, ...).
            One the env does not take (a typo) raises a TypeError here, naming it, and so do
            `generator_settings` the generator's signature has no argument for (when it can be
            read and has no **kwargs), rather than every make of the id failing. So do values
            every make would refuse, checked without loading data (`_check_values`): max_turns
            other than 1, a non-zero 'process' weight, split / config / revision that rows, a local
            file or a `datasets.Dataset` do not have. `max_episode_steps` (gymnasium's TimeLimit)
            is refused: these tasks end after one step, so a step limit does nothing.

    `rlvr.make(id, dataset=...)` with other data than the registered one leaves out the registered
    `split`, `config` and `revision` (they describe the registered data), unless given to it again.

    Returns:
        The full env id (or, used as a decorator, the generator unchanged).

    A callable verifier, generator or prompt is identified in the fingerprint by what it is made of
    (`callable_identity`), taken now: every env made from this registration reuses it, so a
    verifier that keeps a cache or counts its calls gives one digest all run long. An object passed
    to `rlvr.make` instead is identified when first made.
    """
    # another registration's spec kwargs (`rlvr.register(new_id, **gym.spec(old_id).kwargs)`) hold
    # objects in `ByReference` holders: registered again, they are the objects themselves
    dataset, generator, verifier, prompt = (_unwrapped(v) for v in (dataset, generator, verifier, prompt))
    kwargs = {key: _unwrapped(value) for key, value in kwargs.items()}
    full = _full_id(env_id)
    _refuse_none_source(full, dataset, generator)
    decorating = dataset is _UNSET and generator is _UNSET
    dataset = None if dataset is _UNSET else dataset
    generator = None if generator is _UNSET else generator
    if not _ID.match(full):
        raise ValueError(f"env id {env_id!r} is malformed; use the form 'rlvr/MyTask-v0' (name, '-v', version number)")
    leading_zero = _LEADING_ZERO.search(full)
    if leading_zero:
        fixed = full[:leading_zero.start()] + f"-v{int(leading_zero[1])}"
        raise ValueError(f"env id {env_id!r} writes its version with a leading zero, which Gymnasium reads as a "
                         f"number and registers as {fixed!r}, so {full!r} would then be found by nothing "
                         f"(rlvr.make, gymnasium.make_vec); write {fixed!r}")
    if dataset is not None and generator is not None:
        raise ValueError("give either dataset= or generator=, not both")
    if dataset is None and (question_key or answer_key):  # a generator's dicts always have 'question' and 'answer'
        raise ValueError("question_key/answer_key need dataset=; a generator returns dicts with 'question' and 'answer'")
    check_template(prompt)  # a template no task can fill ("\\boxed{}", "{}") fails now, not at the first reset
    _refuse_step_limit(full, kwargs.pop("max_episode_steps", None))
    kind = DatasetEnv if dataset is not None else GeneratorEnv
    # a misspelled or foreign argument, or a value every make refuses, fails now, not at every make of the id
    _check_env_arguments(full, kind, kwargs)
    if isinstance(dataset, (str, os.PathLike)):
        dataset = _dataset_path(dataset)
    _check_values(full, kind, dataset, kwargs)
    if decorating:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            register(full, generator=fn, verifier=verifier, prompt=prompt, force=force, **kwargs)
            return fn

        return decorator
    if full in gym.registry and not force:
        raise ValueError(f"{full!r} is already registered; pick another id or version, or pass force=True to replace it")
    for part in (verifier, generator, prompt):  # what they are made of, as registered (`callable_identity`)
        if callable(part) and not isinstance(part, type):
            callable_identity(part, refresh=True)
    settings = kwargs.get("verifier_settings") or {}
    if dataset is not None:
        verifier = "math" if verifier is None else verifier
        resolve_verifier(verifier, **settings)  # fail now on an unknown verifier name
        env_kwargs = dict(
            kwargs,
            dataset=dataset,
            question_key=question_key,
            answer_key=answer_key,
            verifier=verifier,
            prompt=prompt,
        )
        entry_point = "rlvr.envs.custom:DatasetEnv"
    else:
        if not callable(generator):
            raise TypeError(f"generator must be a callable fn(rng, **settings), got {type(generator).__name__}")
        _check_generator_settings(full, generator, kwargs.get("generator_settings"))
        verifier = "exact" if verifier is None else verifier
        resolve_verifier(verifier, **settings)
        env_kwargs = dict(kwargs, generator=generator, verifier=verifier, prompt=prompt)
        entry_point = "rlvr.envs.custom:GeneratorEnv"
    if full in gym.registry:
        del gym.registry[full]
    spec_kwargs = {key: _held(key, value) for key, value in env_kwargs.items()}
    # a generator, or a value to unwrap; or data options that `gymnasium.make` may merge with other data
    # (`_build_with` then says where they came from)
    if any(not _is_plain(value) for value in spec_kwargs.values()) or any(env_kwargs.get(key) is not None
                                                                         for key in _DATA_OPTIONS):
        entry_point = _creator_name(entry_point.rpartition(":")[2], full)
    gym.register(full, entry_point=entry_point, vector_entry_point=_creator_name("TextVectorEnv", full), kwargs=spec_kwargs,
                 disable_env_checker=True)
    return full


def _refuse_none_source(full: str, dataset: Any, generator: Any) -> None:
    """A ValueError for `dataset=None` or `generator=None` given with no other source of tasks.

    `register` without either is the decorator form and returns a decorator; an explicit None
    (`dataset=os.environ.get("MY_DATA")` with the variable unset) was taken for it, so nothing was
    registered and the later `make` said only that the id is unknown."""
    if (dataset is None and (generator is None or generator is _UNSET)) or (generator is None and dataset is _UNSET):
        given = "dataset" if dataset is None else "generator"
        raise ValueError(f"rlvr.register({full!r}): {given}= is None, so there are no tasks to register; pass the "
                         f"{given} (a value read from an unset environment variable is None), or leave both dataset= "
                         f"and generator= out to use register as a decorator on the generator")


def _refuse_step_limit(full: str, value: Any) -> None:
    """A ValueError for a `max_episode_steps` (other than None): the tasks `register` makes end after
    their one step, so gymnasium's TimeLimit never cut an episode, except at 1, where it marked
    every answer truncated as well as terminated; and `gymnasium.make` and `rlvr.make` recorded it
    differently in the fingerprint."""
    if value is not None:
        raise ValueError(f"rlvr.register({full!r}): max_episode_steps={value!r}, but the dataset and generator tasks it "
                         f"registers end after one step, so a step limit does nothing; drop it (for several turns, "
                         f"register a multi-turn TextEnv subclass with gymnasium.register(id, entry_point=...) and set "
                         f"its max_turns)")


def _check_values(full: str, kind: type, dataset: Any, kwargs: dict[str, Any]) -> None:
    """The values of a registration that every make of it would refuse, found without loading
    data or calling the generator: `max_turns` other than 1 and a non-zero 'process' weight (these
    single-turn envs pay no process part), and `split` / `config` / `revision` that rows, a local file or a `datasets.Dataset` do not have
    (`check_data_options`; a hub id is only checked when it is loaded). The messages are make's."""
    if "max_turns" in kwargs:
        turns = positive_int("max_turns", kwargs["max_turns"], "the most turns of an episode")
        if turns != 1:
            raise ValueError(f"rlvr.register({full!r}): {single_turn_max_turns_message(kind.__name__, turns)}")
    weights = RewardWeights.coerce(kwargs.get("reward_weights"))
    if weights.process != 0:
        unpaid = unpaid_process_message(kind.__name__, weights.process, "drop the 'process' weight")
        raise ValueError(f"rlvr.register({full!r}): {unpaid}")
    if dataset is not None:
        _check_dataset_kind(full, dataset)
        check_data_options(dataset, **{key: kwargs.get(key) for key in _DATA_OPTIONS})


def _check_dataset_kind(full: str, dataset: Any) -> None:
    """A DatasetError for a `dataset=` of a kind `load_table` never reads (a pandas DataFrame, a dict
    of columns): stored as it was, every make of the id refused it. The kinds are `load_table`'s:
    a hub id or file path, a list of rows, a `datasets.Dataset` or `DatasetDict`."""
    if isinstance(dataset, (str, os.PathLike, list, tuple)) or _is_hf_data(dataset):
        return
    hint = ""
    if hasattr(dataset, "to_dict") and hasattr(dataset, "columns"):
        hint = " (for a pandas DataFrame, pass df.to_dict('records') or datasets.Dataset.from_pandas(df))"
    elif isinstance(dataset, Mapping):
        hint = " (for a dict of columns, pass datasets.Dataset.from_dict(...) or a list of row dicts)"
    raise DatasetError(f"rlvr.register({full!r}): dataset must be a hub id, a path to a json/jsonl/parquet/csv file, "
                       f"a datasets.Dataset or a list of dicts; got {type(dataset).__name__}{hint}")


def _check_env_arguments(full: str, kind: type, kwargs: dict[str, Any]) -> None:
    """A TypeError naming the arguments of a registration (`kwargs`, beyond what `register` names
    itself) that the env class `kind` does not take: stored as they were, each make of the id failed."""
    accepted = [name for name in accepted_arguments(kind) if name not in _OWN_ARGUMENTS]
    unknown = [name for name in kwargs if name not in accepted]
    if unknown:
        what = "dataset" if kind is DatasetEnv else "generator"
        raise TypeError(f"rlvr.register({full!r}): unexpected keyword argument(s) {', '.join(map(repr, unknown))}"
                        f"{did_you_mean(unknown, [*accepted, *_OWN_ARGUMENTS[:-1]])}; a {what} task takes {accepted}")


#: What `register` takes by name itself, and what the env classes fill in themselves (the scorer
#: `VerifiedEnv` is given): none of them an env argument to store from **kwargs.
_OWN_ARGUMENTS = ("dataset", "generator", "question_key", "answer_key", "verifier", "prompt", "force", "scorer")


def _check_generator_settings(full: str, generator: Callable[..., Any], settings: Any) -> None:
    """A TypeError for `generator_settings` that `generator(rng, **settings)` cannot take: not a
    dict with str keys, or a name its signature lacks (checked only when the signature can be
    read and has no **kwargs). At make time the generator's own TypeError blamed the generator."""
    if settings is None:
        return
    if not isinstance(settings, Mapping) or not all(isinstance(key, str) for key in settings):
        raise TypeError(f"rlvr.register({full!r}): generator_settings must be a dict of keyword arguments of the "
                        f"generator, got {settings!r:.100}")
    try:
        params = list(inspect.signature(generator).parameters.values())
    except (TypeError, ValueError):  # a builtin or an odd callable: its own error at make time
        return
    if any(param.kind is param.VAR_KEYWORD for param in params):
        return
    if params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]  # the rng, passed first by position
    accepted = [param.name for param in params if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)]
    unknown = [name for name in settings if name not in accepted]
    if unknown:
        name = getattr(generator, "__qualname__", type(generator).__qualname__)
        raise TypeError(f"rlvr.register({full!r}): generator_settings {', '.join(map(repr, unknown))} are no arguments "
                        f"of the generator {name}{did_you_mean(unknown, accepted)}; it takes {accepted}")


def _dataset_path(dataset: str | os.PathLike) -> str:
    """A local dataset path made absolute (with "~" expanded), so that the registered env reads the
    same file wherever the process is when it is made (after an `os.chdir`, in a worker started
    elsewhere); a hub id ("openai/gsm8k") as it is. A path is one that exists, ends with a data
    file extension, or starts with "/", "./", "../" or "~" (what `load_table` reads as a file)."""
    text = os.fspath(dataset)
    path = os.path.expanduser(text)
    if os.path.exists(path) or path.lower().endswith(_DATASET_FILES) or text.startswith(("/", "./", "../", "~")):
        return os.path.abspath(path)
    return text


class ByReference:
    """A registered env argument that `gymnasium.make` passes as the object itself, not a copy.

    `gymnasium.make` (and `make_vec`) deep-copy a spec's kwargs: a sandbox, or a verifier object
    holding a lock or a client, cannot be deep-copied, and a large in-memory dataset should not be
    copied for every env of a vector env. A deep copy of this holder is the holder itself; pickling
    (Gymnasium's "async" vector env) still sends its value. `gymnasium.spec(id).to_json()` refuses it
    ("Object of type ByReference is not JSON serializable"), as the object is no JSON data.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __deepcopy__(self, memo: dict[int, Any]) -> ByReference:
        return self

    def __repr__(self) -> str:  # short: Gymnasium's make errors show a spec's kwargs, and a dataset may be large
        return f"ByReference({reprlib.repr(self.value)})"


def _unwrapped(value: Any) -> Any:
    """The object a `ByReference` holds, or `value` itself."""
    return value.value if isinstance(value, ByReference) else value


def _held(key: str, value: Any) -> Any:
    """How a registration's env argument is stored in its spec's kwargs.

    Plain data (strings, numbers, and lists / dicts of them) as it is: visible in
    `gym.spec(id).kwargs` and in `to_json()`. Functions and classes as they are too (deep copies
    of them are themselves; `to_json()` refuses them, as it does for any Gymnasium spec). Anything
    else, and an in-memory dataset, in a `ByReference`.
    """
    if key == "dataset" and not isinstance(value, str):
        return ByReference(value)
    if _is_plain(value) or isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)):
        return value
    return ByReference(value)


def _creator_name(kind: str, env_id: str) -> str:
    """The entry point string "rlvr.envs.registry:Kind[env id]" that `__getattr__` resolves.

    Gymnasium splits an entry point at its one ":", and an id may hold ":" ("a:b-v0"), so the id is
    %-escaped (an id has no "%", "[" or "]").
    """
    return f"{__name__}:{kind}[{quote(env_id, safe='/')}]"


def __getattr__(name: str) -> Callable[..., Any]:
    """The creator an entry point string from `_creator_name` names (PEP 562 module attribute).

    "TextVectorEnv[id]": `gymnasium.make_vec` calls it as `fn(num_envs=n, **kwargs)` and gets
    `rlvr.envs.vector.make_vec(id, n, **kwargs)`, the same `TextVectorEnv` (Gymnasium does not
    pass the id, hence the id in the name). "DatasetEnv[id]" / "GeneratorEnv[id]": that env of
    `rlvr.envs.custom`, built by `_build_with`. A string, unlike a callable, leaves the spec
    serialisable and resolves in another process too; the vector env's then builds its sub-envs
    from that process's registry, so there a user-registered id must be registered as well.
    """
    match = _CREATOR.fullmatch(name)
    if match is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    env_id = unquote(match["id"])
    if match["kind"] == "TextVectorEnv":
        return functools.partial(_vector_env, env_id)
    return functools.partial(_build_with, f"rlvr.envs.custom:{match['kind']}", env_id)


def _vector_env(env_id: str, num_envs: int, **kwargs: Any) -> Any:
    """`gymnasium.make_vec`'s creator of `env_id`'s `TextVectorEnv` (`rlvr.envs.vector.make_vec`).

    `gymnasium.make_vec` passes the spec's kwargs merged with the caller's; the spec's own values
    are left out here (each sub-env's `make` merges them again). With a dataset= other than the
    registered one, a split / config / revision equal to the registration's is kept, as
    `gymnasium.make` keeps it: it may be the caller's own (a pinned revision must never be dropped
    unseen), and data without it says so (pass None for those to leave them out).
    """
    spec = gym.registry.get(env_id)
    if spec is not None:
        other_data = "dataset" in kwargs and "dataset" in spec.kwargs and not _same_data(
            _unwrapped(spec.kwargs["dataset"]), kwargs["dataset"])
        kwargs = {key: value for key, value in kwargs.items()
                  if key not in spec.kwargs or (other_data and key in _DATA_OPTIONS)
                  or not _is_spec_value(value, spec.kwargs[key])}
    return make_vec(env_id, num_envs, **kwargs)


def _is_spec_value(value: Any, registered: Any) -> bool:
    """Whether `value` is the spec's `registered` value (or `gymnasium.make_vec`'s deep copy of it)."""
    return value is registered or (type(value) is type(registered) and _is_plain(value) and value == registered)


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(map(_is_plain, value))
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_plain(item) for key, item in value.items())
    return False


def _build_with(entry_point: str, env_id: str, **kwargs: Any) -> gym.Env:
    """The registered env `env_id` built with its arguments, `ByReference` ones unwrapped.

    A generator's bad first task (checked while the env is built, before `gym.make` gives the env
    its spec) is reported under `env_id`.
    """
    kwargs = {key: _unwrapped(value) for key, value in kwargs.items()}
    try:
        return load_env_creator(entry_point)(**kwargs)
    except GeneratorError as exc:
        raise GeneratorError(f"{env_id}: {exc}") from exc
    except DatasetError as exc:
        merged = "" if _IN_MAKE.get() else _merged_data_options(env_id, kwargs)
        if not merged:
            raise
        raise DatasetError(f"{exc} ({merged} may be the registration's of {env_id!r}, which gymnasium.make merges with "
                           f"the dataset= given; rlvr.make leaves them out with other data, or pass "
                           f"{', '.join(f'{key}=None' for key in _DATA_OPTIONS)})") from exc


def _merged_data_options(env_id: str, kwargs: dict[str, Any]) -> str:
    """The registered split / config / revision in `kwargs` (as "split='train', config='main'"), when
    they were built with a dataset other than the registered one: `gymnasium.make` merged them
    with the caller's dataset= (`rlvr.make` does not: `_without_registered_data_options`)."""
    spec = gym.registry.get(env_id)
    if spec is None or "dataset" not in spec.kwargs or _same_data(_unwrapped(spec.kwargs["dataset"]), kwargs.get("dataset")):
        return ""
    return ", ".join(f"{key}={kwargs[key]!r}" for key in _DATA_OPTIONS
                     if kwargs.get(key) is not None and kwargs.get(key) == spec.kwargs.get(key))
