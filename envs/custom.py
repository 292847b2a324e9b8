"""Environments built by `rlvr.register(...)` from a user's dataset or generator.

`DatasetEnv` reads any question/answer table (hub id or local json/jsonl/parquet/csv file) and
`GeneratorEnv` wraps a procedural `fn(rng, **settings)`; both are single-turn, format the question
with a prompt template and score with the chosen verifier.
"""

from __future__ import annotations

import json
import re
import weakref
from functools import lru_cache
from string import Formatter
from typing import Any, Callable

from rlvr.envs.answers import RULES_VERSION, follows_tag_format, last_boxed
from rlvr.envs.base import BatchVerify, SingleTurnEnv
from rlvr.envs.scoring import Scorer, callable_identity, resolve_verifier
from rlvr.envs.tasks import GeneratorSource, ListSource, Task, TaskSource, build_tasks, load_table, require_column

MATH_PROMPT = "{question}\n\nPut your final answer within \\boxed{{}}."
PLAIN_PROMPT = "{question}"

Prompt = str | Callable[[Task], str] | None


def default_prompt(scorer_name: str) -> str:
    return MATH_PROMPT if scorer_name == "math" else PLAIN_PROMPT


def render_prompt(prompt: str | Callable[[Task], str], task: Task) -> str:
    """Apply a template ("{question}" and any column/meta name) or a callable(task) -> str."""
    if callable(prompt):
        text = prompt(task)
        if not isinstance(text, str):
            raise TypeError(f"prompt callable must return a str, got {type(text).__name__}")
        return text
    names, around_question = _template_plan(prompt)
    question = task.question
    if around_question is not None and type(question) is str:  # "...{question}...": what format gives
        return around_question[0] + question + around_question[1]
    if names is None:  # positional or nested fields: hand over every field, as str.format may need any
        return prompt.format(question=question, answer=task.answer, **{k: v for k, v in task.meta.items() if k not in ("question", "answer")})
    fields = {}
    for name in names:  # only the fields the template names (a name the task lacks: format's KeyError)
        if name == "question":
            fields[name] = question
        elif name == "answer":
            fields[name] = task.answer
        elif name in task.meta:
            fields[name] = task.meta[name]
    return prompt.format(**fields)


@lru_cache(maxsize=256)
def _template_plan(template: str) -> tuple[tuple[str, ...] | None, tuple[str, str] | None]:
    """How `render_prompt` fills `template`, worked out once per template (a prompt is rendered at
    every reset, and copying all of a task's meta into `str.format`'s arguments was most of that).

    Returns the keyword fields the template uses ("{a.b}" and "{a[0]}" use "a"; None when it has
    positional fields or fields inside format specs, or does not parse: then every field is passed,
    as before), and, for a template whose only field is a plain "{question}", the text before and
    after it (braces unescaped), so the prompt is two concatenations.
    """
    names: dict[str, None] = {}
    literals: list[str | None] = []
    plain_question = 0
    try:
        for literal, field_name, spec, conversion in Formatter().parse(template):
            literals.append(literal)
            if field_name is None:
                continue
            name = re.split(r"[.\[]", field_name, maxsplit=1)[0]
            if not name or name.isdigit() or (spec and "{" in spec):
                return None, None
            names[name] = None
            if field_name == "question" and not spec and conversion is None:
                plain_question += 1
                literals.append(None)  # marks where the question goes
            else:
                plain_question = 2  # some other field: no shortcut
    except ValueError:
        return None, None
    if plain_question == 1 and len(names) == 1:
        marker = literals.index(None)
        return tuple(names), ("".join(literals[:marker]), "".join(literals[marker + 1:]))  # type: ignore[arg-type]
    return tuple(names), None


#: How to write braces that are text, not fields, in a prompt template (for error messages).
BRACES_HINT = "write literal braces as '{{' and '}}' (e.g. '\\boxed{{}}' for \\boxed{})"


def check_template(prompt: Any) -> None:
    """Fail early on a prompt that is neither a template nor a callable, or on a template that no
    task can fill: one that does not parse ("\\boxed{" unbalanced), or has an empty or positional
    field ("\\boxed{}", "{0}"), which `render_prompt` (keyword fields only) could never fill: the
    error would otherwise come at the first reset, mid-training. Needs no task: `rlvr.register`
    checks a prompt with it before any data is loaded."""
    if prompt is None or callable(prompt):
        return
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a template string like '{{question}}' or a callable(task) -> str, got {type(prompt).__name__}")
    _template_fields(prompt, prompt)


def _template_fields(template: str, whole: str) -> list[str]:
    """The base names of `template`'s fields ("{topic[0]}" and "{question.upper}" name "topic" and
    "question"), nested fields of format specs ("{x:>{width}}") included; a template that does not
    parse or has a nameless field raises ValueError naming `whole` and how to write braces."""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"prompt template {whole!r:.200} is not a valid format string ({exc}); {BRACES_HINT}") from None
    names = []
    for _, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        name = re.split(r"[.\[]", field_name, maxsplit=1)[0]
        if not name or name.isdigit():
            what = "an empty field '{}'" if not field_name else f"the positional field '{{{field_name}}}'"
            raise ValueError(f"prompt template {whole!r:.200} has {what}; fields are filled by name "
                             f"('{{question}}', other columns by name), so {BRACES_HINT}")
        if conversion not in (None, "r", "s", "a"):
            raise ValueError(f"prompt template {whole!r:.200} has the field '{{{field_name}!{conversion}}}': "
                             f"a conversion must be !r, !s or !a; {BRACES_HINT}")
        names.append(name)
        if spec and "{" in spec:
            names.extend(_template_fields(spec, whole))
    return names


def check_prompt(prompt: Any, sample: Task) -> None:
    """Fail early on a bad template (`check_template`) or one naming a field the tasks do not have.

    A field is known by its base name, as `render_prompt` passes it: "{topic[0]}" needs a "topic"
    column, "{question.upper}" the question."""
    check_template(prompt)
    if prompt is None or callable(prompt):
        return
    fields = set(_template_fields(prompt, prompt))
    known = {"question", "answer", *sample.meta}
    unknown = sorted(fields - known)
    if unknown:
        raise ValueError(
            f"prompt template refers to {unknown}, which the tasks do not have (fields: {sorted(known)}); "
            f"fix prompt= ({BRACES_HINT})"
        )
    try:  # what the checks above cannot see: "{question.upperr}", "{n:03d}" of a text column...
        render_prompt(prompt, sample)
    except (LookupError, AttributeError, TypeError, ValueError) as exc:
        raise ValueError(f"prompt template {prompt!r:.200} cannot be filled from task {sample.id!r:.80} "
                         f"({type(exc).__name__}: {exc}); fix prompt= or the data") from None


class VerifiedEnv(SingleTurnEnv):
    """A single-turn env over any TaskSource, with a prompt template and a Scorer."""

    env_name = "Custom"

    def __init__(self, source: TaskSource, scorer: Scorer, *, prompt: Prompt = None, format_reward: str | None = None, **kwargs: Any) -> None:
        self.scorer = scorer
        self.prompt = prompt if prompt is not None else default_prompt(scorer.name)
        if format_reward not in (None, "boxed", "answer_tags"):
            raise ValueError(f"format_reward must be None, 'boxed' or 'answer_tags', got {format_reward!r}")
        self.format_reward = format_reward
        super().__init__(source, **kwargs)

    def make_prompt(self, task: Task) -> str:
        return render_prompt(self.prompt, task)

    def verify(self, task: Task, content: str) -> Any:
        return self.scorer.score(task, content)

    def batch_verify(self, task: Task, content: str, tool_calls: Any) -> BatchVerify | None:
        scorer = self.scorer
        if scorer.score_batch is None:
            return None
        return BatchVerify(scorer.group_key, scorer.score_batch, (task, content))

    def format_score(self, task: Task, content: str) -> float:
        if self.format_reward == "boxed":
            return 1.0 if last_boxed(content) else 0.0
        if self.format_reward == "answer_tags":
            return 1.0 if follows_tag_format(content) else 0.0
        return 0.0

    def verifier_fingerprint(self) -> dict[str, Any]:
        return self.scorer.fingerprint()

    def settings(self) -> dict[str, Any]:
        """The prompt template as is; a callable prompt by what it is made of (`callable_identity`:
        name, code digest, bound arguments), so that two different lambdas are two setups."""
        prompt = self.prompt if isinstance(self.prompt, str) else {"callable": callable_identity(self.prompt)}
        settings = {"prompt": prompt, "format_reward": self.format_reward}
        if self.format_reward == "answer_tags":  # how the tags are read (an empty pair is none since rules 4)
            settings["format_rules"] = RULES_VERSION
        return settings


class DatasetEnv(VerifiedEnv):
    """A registered dataset task: one row -> one question, scored against its gold answer.

    Args:
        dataset: hub id, local json/jsonl/parquet/csv path, `datasets.Dataset` or list of dicts.
        question_key / answer_key: the columns holding the question and the gold answer.
        verifier: "math", "code", "exact" or a callable fn(gold, completion).
        prompt: template ("{question}", other columns by name) or callable(task) -> str.
        split / config / revision: which part and version of a hub dataset.
        id_key: column with task ids (default: the row index).
        verifier_settings: keyword arguments of the verifier (e.g. {"timeout": 5}).
    """

    #: Columns tried, in order, when question_key / answer_key are not given.
    question_candidates: tuple[str, ...] = ("question",)
    answer_candidates: tuple[str, ...] = ("answer",)

    def __init__(
        self,
        dataset: Any,
        *,
        question_key: str | None = None,
        answer_key: str | None = None,
        verifier: Any = "math",
        prompt: Prompt = None,
        split: str | None = None,
        config: str | None = None,
        revision: str | None = None,
        id_key: str | None = None,
        verifier_settings: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        scorer = resolve_verifier(verifier, **(verifier_settings or {}))
        table = load_table(dataset, split=split, config=config, revision=revision)
        qk = require_column(table, question_key, "question_key", self.question_candidates)
        ak = require_column(table, answer_key, "answer_key", self.answer_candidates)
        if id_key is not None:
            require_column(table, id_key, "id_key")
        #: keeps the shared tasks alive (and so in the cache) while this env lives
        self._tasks = _shared_tasks(table, qk, ak, id_key, scorer)
        tasks = self._tasks.tasks
        fingerprint = dict(table.fingerprint, question_key=qk, answer_key=ak)
        if id_key is not None:  # it names the tasks (task ids in results)
            fingerprint["id_key"] = id_key
        source = ListSource(tasks, fingerprint)
        check_prompt(prompt, tasks[0])
        super().__init__(source, scorer, prompt=prompt, **kwargs)


class _Tasks:
    """A built task list, shared (weakly cached) by the envs built from the same data."""

    __slots__ = ("tasks", "__weakref__")

    def __init__(self, tasks: list[Task]) -> None:
        self.tasks = tasks


_TASKS: "weakref.WeakValueDictionary[Any, _Tasks]" = weakref.WeakValueDictionary()


def _shared_tasks(table: Any, question_key: str, answer_key: str, id_key: str | None, scorer: Scorer) -> _Tasks:
    """`build_tasks` of the table, shared by every env built from the same data and columns.

    `make_vec("rlvr/Math-v0", 64, dataset=...)` builds 64 envs from one dataset: they share one set
    of (immutable) `Task` objects instead of 64 copies: less memory, faster construction, and a
    vector env's resets read one set of tasks. The data is identified by its fingerprint (file
    hash, in-memory data hash, or hub id, revision and content fingerprint); a table without a
    content identity is not shared.
    """
    fingerprint = table.fingerprint
    identified = fingerprint.get("sha256") or fingerprint.get("content_fingerprint")
    key = None
    if identified:
        key = (json.dumps(fingerprint, sort_keys=True, default=repr), question_key, answer_key, id_key,
               scorer.convert_gold, scorer.validate_gold)
        shared = _TASKS.get(key)
        if shared is not None:
            return shared
    tasks = build_tasks(
        table,
        question_key=question_key,
        answer_key=answer_key,
        convert_answer=scorer.convert_gold,
        validate_answer=scorer.validate_gold,
        meta_keys=[c for c in table.columns if c not in (question_key, answer_key)],
        id_key=id_key,
    )
    holder = _Tasks(tasks)
    if key is not None:
        _TASKS[key] = holder
    return holder


class GeneratorEnv(VerifiedEnv):
    """A registered procedural task: `generator(rng, **generator_settings)` makes each question.

    Args:
        generator: fn(rng: numpy.random.Generator, **settings) -> dict(question=..., answer=..., ...)
            or a `Task`. Each task is checked as a dataset row is (non-empty question, a gold
            answer the verifier accepts; the first one when the env is built): a bad one raises
            `GeneratorError` naming the env, the generator, the field and its value.
        verifier: "math", "code", "exact" or a callable fn(gold, completion).
        prompt: template or callable; default: the question as is (plus the \\boxed{} instruction
            for the math verifier).
        generator_settings: keyword arguments passed to the generator (difficulty).
    """

    def __init__(
        self,
        generator: Callable[..., Any],
        *,
        verifier: Any = "exact",
        prompt: Prompt = None,
        generator_settings: dict[str, Any] | None = None,
        verifier_settings: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        scorer = resolve_verifier(verifier, **(verifier_settings or {}))
        # every task made is checked as a dataset row is, and named by this env in errors
        source = GeneratorSource(generator, generator_settings, convert_answer=scorer.convert_gold,
                                 validate_answer=scorer.validate_gold, label=_spec_id(self))
        sample = source.get(0)  # a generator that makes unusable tasks fails here, not mid-training
        check_prompt(prompt, sample)
        super().__init__(source, scorer, prompt=prompt, **kwargs)


def _spec_id(env: Any) -> Callable[[], str | None]:
    """A function giving `env`'s registered id (its `spec`, which `gym.make` sets after `__init__`),
    or None before that; it holds `env` weakly, so its task source does not keep it alive."""
    ref = weakref.ref(env)

    def spec_id() -> str | None:
        spec = getattr(ref(), "spec", None)
        return spec.id if spec is not None else None

    return spec_id
