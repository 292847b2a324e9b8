"""Environments built by `rlvr.register(...)` from a user's dataset or generator.

`DatasetEnv` reads any question/answer table (hub id or local json/jsonl/parquet/csv file) and
`GeneratorEnv` wraps a procedural `fn(rng, **settings)`; both are single-turn, format the question
with a prompt template and score with the chosen verifier.

A prompt template is checked against every dataset row when the env is built (`check_prompt_rows`:
a row without a field the template names, or whose value its format spec refuses, is refused
naming the row); a task that still cannot fill it at a reset (a generator's, a task given with
`reset(options={"task": ...})`) raises a ValueError naming the template, the task and the fix.
"""

from __future__ import annotations

import json
import re
import weakref
from functools import lru_cache
from string import Formatter
from typing import Any, Callable, Sequence

from rlvr.envs.answers import RULES_VERSION, follows_tag_format
from rlvr.envs.base import BatchVerify, Setting, SingleTurnEnv, positive_int
from rlvr.envs.rewards import RewardWeights
from rlvr.envs.scoring import Scorer, callable_identity, resolve_verifier
from rlvr.envs.tasks import (DatasetError, GeneratorSource, ListSource, Task, TaskSource, build_tasks, check_utf8, is_missing,
                             load_table, require_column)
from rlvr.verifiers.shaping import boxed_reward

MATH_PROMPT = "{question}\n\nPut your final answer within \\boxed{{}}."
PLAIN_PROMPT = "{question}"

Prompt = str | Callable[[Task], str] | None


def default_prompt(scorer_name: str) -> str:
    return MATH_PROMPT if scorer_name == "math" else PLAIN_PROMPT


def render_prompt(prompt: str | Callable[[Task], str], task: Task) -> str:
    """Apply a template ("{question}" and any column/meta name) or a callable(task) -> str.

    A field the task lacks raises KeyError (as `str.format` does), and one it holds as None a
    ValueError, rather than being written "None"; `VerifiedEnv.make_prompt` names the task."""
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
    meta = task.meta
    for name in names:  # only the fields the template names (a name the task lacks: format's KeyError)
        if name == "question":
            fields[name] = question
        elif name == "answer":
            fields[name] = task.answer
        elif name in meta:
            value = fields[name] = meta[name]
            if is_missing(value):  # None or a float NaN: it would be written "None" or "nan"
                raise ValueError(f"the task's field {name!r} is {value!r} (no value)")
    return prompt.format(**fields)


def prompt_failure(prompt: Any, task: Task, exc: BaseException) -> str:
    """Why `prompt` could not be rendered for `task` (`exc`), and what fixes it: the message of the
    ValueError `VerifiedEnv.make_prompt` and `check_prompt` raise."""
    cause = f"it has no field {exc.args[0]!r}" if isinstance(exc, KeyError) and exc.args else f"{type(exc).__name__}: {exc}"
    if callable(prompt):
        return (f"prompt callable {getattr(prompt, '__qualname__', type(prompt).__qualname__)} failed on task "
                f"{task.id!r:.80} ({cause:.300}); fix the prompt callable")
    return (f"prompt template {prompt!r:.200} cannot be filled from task {task.id!r:.80} ({cause:.300}); every task "
            f"needs each field the template names, with a value its format spec accepts: fix the data (the dataset "
            f"rows, the generator's tasks) or prompt= (a callable(task) -> str prompt can handle tasks without a field)")


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
    error would otherwise come at the first reset, mid-training. A template naming "{answer}" is
    refused too: it would put the gold answer in every prompt. Needs no task: `rlvr.register`
    checks a prompt with it before any data is loaded."""
    if prompt is None or callable(prompt):
        return
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a template string like '{{question}}' or a callable(task) -> str, got {type(prompt).__name__}")
    if "answer" in _template_fields(prompt, prompt):
        raise ValueError(f"prompt template {prompt!r:.200} names '{{answer}}', which shows the model the gold answer it is "
                         f"scored against; drop it, or, when the prompt really must hold the gold (a checking task), "
                         f"pass a callable prompt=lambda task: ... that uses task.answer")


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
    if _check_fields(prompt, sample):
        _check_renders(prompt, sample)


def _check_fields(prompt: Any, sample: Task) -> bool:
    """`check_template`, and a ValueError for a field `sample` does not have; True for a template."""
    check_template(prompt)
    if prompt is None or callable(prompt):
        return False
    fields = set(_template_fields(prompt, prompt))
    known = {"question", "answer", *sample.meta}
    unknown = sorted(fields - known)
    if unknown:
        raise ValueError(
            f"prompt template refers to {unknown}, which the tasks do not have (fields: {sorted(known)}); "
            f"fix prompt= ({BRACES_HINT})"
        )
    return True


def _check_renders(prompt: str, sample: Task, row: int | None = None) -> None:
    """What the field checks cannot see: "{question.upperr}", "{n:03d}" of a text column... A
    ValueError (a DatasetError naming the row, for a dataset's `row`) when `sample` cannot fill `prompt`."""
    try:
        render_prompt(prompt, sample)
    except (LookupError, AttributeError, TypeError, ValueError) as exc:
        if row is None:
            raise ValueError(prompt_failure(prompt, sample, exc)) from None
        raise DatasetError(f"row {row}: {prompt_failure(prompt, sample, exc)}") from None


def check_prompt_rows(prompt: Any, tasks: Sequence[Task]) -> None:
    """`check_prompt` against the first task, then every row of a dataset (`tasks`, in row order).

    A row whose cell for a field the template names is missing (None, NaN: a JSON object without
    that key, an empty cell) raises DatasetError naming the row, the column and the fix: it would
    be written "None" into the prompt. A template with format specs, conversions or attribute and
    index access ("{n:03d}", "{topic[0]}") is rendered for every row, so a value its spec refuses
    ("hard" for "{n:03d}") fails here, naming the row, not at some reset mid-training.
    """
    if not _check_fields(prompt, tasks[0]):
        return
    columns = [name for name in dict.fromkeys(_template_fields(prompt, prompt)) if name not in ("question", "answer")]
    for name in columns:
        for i, task in enumerate(tasks):
            value = task.meta.get(name)
            if is_missing(value):
                held = "missing" if value is None else f"empty ({value!r})"
                raise DatasetError(f"row {i}: column {name!r} is {held}, and the prompt template {prompt!r:.200} "
                                   f"uses it ('{{{name}}}'); every row needs each column the template names: fill it "
                                   f"in that row, or change prompt= (a callable(task) -> str prompt can handle rows "
                                   f"without it)")
            if type(value) is str:
                check_utf8(value, f"row {i}: column {name!r} (the prompt template uses it)")
    for i, task in enumerate(tasks if _has_formatting(prompt) else tasks[:1]):
        _check_renders(prompt, task, i)


def longest_prompt(prompt: Any, tasks: Sequence[Task]) -> tuple[int, int] | None:
    """(length, row) of the longest prompt the template `prompt` makes from `tasks` (the first
    such row); None for a callable prompt (it is not run on every row). A template whose only
    field is a plain "{question}" is measured from the questions' lengths, without rendering;
    another is rendered for every row (`check_prompt_rows` has passed it)."""
    if not isinstance(prompt, str) or not tasks:
        return None
    names, around_question = _template_plan(prompt)
    if around_question is not None:
        lengths = [len(task.question) for task in tasks]
        row = max(range(len(lengths)), key=lengths.__getitem__)
        return len(around_question[0]) + lengths[row] + len(around_question[1]), row
    best = (-1, 0)
    for i, task in enumerate(tasks):
        length = len(render_prompt(prompt, task))
        if length > best[0]:
            best = (length, i)
    return best


def check_prompt_length(prompt: Any, longest: tuple[int, int] | None, tasks: Sequence[Task], max_obs_chars: int) -> None:
    """A DatasetError naming the row and the max_obs_chars it needs when the longest prompt
    (`longest`, from `longest_prompt`) is longer than `max_obs_chars`: that row's reset would
    fail, at whichever point of a run first drew it."""
    if longest is None or longest[0] <= max_obs_chars:
        return
    length, row = longest
    raise DatasetError(f"row {row} (task {tasks[row].id!r:.80}): its prompt (template {prompt!r:.100}) has {length} "
                       f"characters, more than max_obs_chars={max_obs_chars} (the observation space's limit), so "
                       f"every reset that drew it would fail; build the env with max_obs_chars={length} or more (the "
                       f"longest prompt), or shorten or drop the row")


@lru_cache(maxsize=256)
def _has_formatting(template: str) -> bool:
    """True when a field of `template` (a valid one) has a format spec, a conversion, or attribute or
    index access: something a row's value can make fail, beyond being there."""
    for _, field_name, spec, conversion in Formatter().parse(template):
        if field_name is not None and (spec or conversion or re.search(r"[.\[]", field_name)):
            return True
    return False


#: `format_reward` not given: the verifier's own default (`default_format_reward`).
_DEFAULT_FORMAT: Any = object()


def default_format_reward(scorer_name: str) -> str | None:
    """The format reward of an env that names none: "boxed" for the math verifier (its default
    prompt asks for a `\\boxed{}` answer, and Math-v0 credits that form), else None."""
    return "boxed" if scorer_name == "math" else None


class VerifiedEnv(SingleTurnEnv):
    """A single-turn env over any TaskSource, with a prompt template and a Scorer.

    `format_reward` is what the `format` reward part credits: "boxed" (a `\\boxed{}` that holds
    something), "answer_tags" (one non-empty `<answer>` tag) or None (nothing: the part is always
    0). Not given, it is "boxed" for the math verifier, as in Math-v0, and None otherwise. A
    non-zero `format` weight with no format reward (`reward_weights={"format": 0.2}` and a callable
    verifier, or format_reward=None) raises a ValueError, when the env is built and when the
    weights are reassigned: the weight would silently pay nothing.
    """

    env_name = "Custom"
    # recorded in the fingerprint (see `Setting`); the scorer read the tasks' gold answers when the
    # env was built, so it stays
    scorer = Setting(fixed=True)
    prompt = Setting("_checked_prompt")
    format_reward = Setting("_checked_format_reward")

    def __init__(self, source: TaskSource, scorer: Scorer, *, prompt: Prompt = None, format_reward: str | None = _DEFAULT_FORMAT,
                 **kwargs: Any) -> None:
        self.scorer = scorer
        self.prompt = prompt
        if format_reward is _DEFAULT_FORMAT:
            format_reward = default_format_reward(scorer.name)
        self.format_reward = format_reward
        super().__init__(source, **kwargs)

    def _checked_prompt(self, name: str, value: Prompt) -> Prompt:
        """A template or a callable; None is the verifier's default prompt (`default_prompt`).

        Reassigned once the env is built, it is checked as the constructor checks it
        (`check_new_prompt`): a template naming "{answer}" (the gold), one that does not parse, or
        one the tasks cannot fill raises, and the env keeps its prompt."""
        if value is None:
            value = default_prompt(self.scorer.name)
        elif not isinstance(value, str) and not callable(value):
            raise TypeError(f"prompt must be a template string, a callable(task) -> str or None, got {type(value).__name__}")
        if "source" in self.__dict__:  # built: a reassignment
            self.check_new_prompt(value)
        return value

    def check_new_prompt(self, prompt: Prompt) -> None:
        """The constructor's checks of a prompt reassigned on a built env: `check_prompt_rows`
        over a list of tasks (every row), else `check_prompt` against the source's first task."""
        source = self.source
        if isinstance(source, ListSource):
            check_prompt_rows(prompt, source.tasks)
        else:
            check_prompt(prompt, source.get(0))

    def _checked_format_reward(self, name: str, value: Any) -> str | None:
        """One of None, "boxed", "answer_tags"; None is refused under a non-zero `format` weight
        (once the weights are set: see `_set_reward_weights`)."""
        if value not in (None, "boxed", "answer_tags"):
            raise ValueError(f"format_reward must be None, 'boxed' or 'answer_tags', got {value!r}")
        weights = self.__dict__.get("_reward_weights")
        if value is None and weights is not None and weights.format != 0:
            raise ValueError(f"{type(self).__name__}: format_reward=None would leave the 'format' part always 0 under "
                             f"its reward weight {weights.format}; set reward_weights without a 'format' weight first")
        return value

    def _set_reward_weights(self, value: Any) -> None:
        """`SingleTurnEnv.reward_weights`' setter (which checks the `process` weight), refusing a non-zero
        `format` weight that nothing could pay."""
        weights = RewardWeights.coerce(value)
        if weights.format != 0 and self.format_reward is None:
            raise ValueError(
                f"{type(self).__name__}: reward_weights give the 'format' part the weight {weights.format}, but this env "
                f"has no format reward (format_reward=None, the default for the {self.scorer.name!r} verifier), so "
                f"that part would always be 0; pass format_reward='boxed' (credits a \\boxed{{}} answer) or "
                f"'answer_tags' (one <answer></answer> tag), to rlvr.register or rlvr.make, with a prompt that asks "
                f"for that form, or drop the 'format' weight")
        SingleTurnEnv.reward_weights.fset(self, weights)  # and its check of the 'process' weight

    reward_weights = SingleTurnEnv.reward_weights.setter(_set_reward_weights)

    def make_prompt(self, task: Task) -> str:
        """The prompt of `task`; a template it cannot fill (a field it lacks or holds as None, a value
        a format spec refuses) or a prompt callable that fails raises ValueError naming the
        template, the task and the fix (`prompt_failure`), the error as its cause."""
        try:
            return render_prompt(self.prompt, task)
        except Exception as exc:
            raise ValueError(prompt_failure(self.prompt, task, exc)) from exc

    def check_given_task(self, task: Task) -> Task:
        """A task given with `reset(options={"task": ...})`, its gold answer converted and checked
        as a dataset row's is (the verifier's `convert_gold` and `validate_gold`: a math gold that
        does not parse, an empty "exact" gold): a ValueError naming the problem, instead of an
        episode whose every step is an unscorable failure."""
        task = super().check_given_task(task)
        if isinstance(task.question, str):
            try:
                check_utf8(task.question, "options['task']['question']")
            except DatasetError as exc:
                raise ValueError(str(exc)) from None
        scorer = self.scorer
        answer = task.answer
        if scorer.convert_gold is not None:
            answer = scorer.convert_gold(answer)
        if scorer.validate_gold is not None:
            problem = scorer.validate_gold(answer)
            if problem:
                raise ValueError(f"options['task'] has a gold answer the {scorer.name!r} verifier cannot use "
                                 f"({task.answer!r:.80}): {problem}; give an answer it can check")
        return task if answer is task.answer else Task(task.id, task.question, answer, task.meta)

    def verify(self, task: Task, content: str) -> Any:
        return self.scorer.score(task, content)

    def batch_verify(self, task: Task, content: str, tool_calls: Any) -> BatchVerify | None:
        """The scorer's `score_batch` request; None for other scorers (`respond`: in the vector env's
        thread pool, or, for one that must run in the calling thread (`steps_in_calling_thread`),
        in the thread that steps the env, with `env.step`'s handling of its errors: an
        `InfrastructureError` raised, any other a failed verdict)."""
        scorer = self.scorer
        if scorer.score_batch is None:
            return None
        return BatchVerify(scorer.group_key, scorer.score_batch, (task, content))

    @property
    def steps_in_calling_thread(self) -> bool:
        """True when the scorer must run in the thread that steps this env (`Scorer.in_calling_thread`):
        a vector env or the rollout loop then steps it there, not in its thread pool (`stepping.steps_here`)."""
        return self.scorer.in_calling_thread

    def format_score(self, task: Task, content: str) -> float:
        """1.0 when the answer has the requested form: for "boxed", a box that holds something
        (`shaping.boxed_reward`: an empty `\\boxed{}` or `\\boxed{\\text{}}` is none, and one
        after the answer's box does not hide it); for "answer_tags", exactly one answer tag that
        shows something, by the same emptiness test as the boxed rule's, in the part of the text
        the math verifier reads (`answers.follows_tag_format`, which is `shaping.answer_tag_reward`:
        a tag inside `<think>` counts only when the text after the block does not answer)."""
        if self.format_reward == "boxed":
            return boxed_reward(content)
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
        if self.format_reward is not None:  # how the form is read (empty tags are none since rules 4, boxes 6, wrapped empty boxes 9)
            settings["format_rules"] = RULES_VERSION
        return settings


class DatasetEnv(VerifiedEnv):
    """A registered dataset task: one row -> one question, scored against its gold answer.

    Args:
        dataset: hub id, local json/jsonl/parquet/csv path, `datasets.Dataset` or list of dicts.
        question_key / answer_key: the columns holding the question and the gold answer.
        verifier: "math", "code", "exact" or a callable fn(gold, completion).
        prompt: template ("{question}", other columns by name) or callable(task) -> str; a template
            is checked against every row when the env is built (`check_prompt_rows`).
        split / config / revision: which part and version of a hub dataset (refused for data without
            them: `load_table`).
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
        self._tasks.check_prompt(prompt)
        #: the source built from the dataset: its rows are `self._tasks`'
        self._built_source = source
        super().__init__(source, scorer, prompt=prompt, **kwargs)
        self._check_prompt_length(self.prompt, self.max_obs_chars)

    def check_new_prompt(self, prompt: Prompt) -> None:
        """`VerifiedEnv.check_new_prompt`, and the longest prompt within `max_obs_chars`."""
        if self.source is self._built_source:
            self._tasks.check_prompt(prompt)  # (once per template for the shared tasks)
        else:
            super().check_new_prompt(prompt)
        self._check_prompt_length(prompt, self.max_obs_chars)

    def _checked_positive(self, name: str, value: Any) -> int:
        """The base check; a `max_obs_chars` reassigned on a built env must also hold the longest prompt."""
        if name == "max_obs_chars" and "_built_source" in self.__dict__ and "prompt" in self.__dict__:
            self._check_prompt_length(self.prompt, positive_int(name, value, self._POSITIVE_MEANINGS[name]))
        return super()._checked_positive(name, value)

    def _check_prompt_length(self, prompt: Prompt, max_obs_chars: int) -> None:
        """A DatasetError naming the row when the longest prompt of the dataset's rows (a template's;
        a callable prompt is not run on every row) is longer than `max_obs_chars`: it is found when
        the env is built, not at whichever reset of a run first draws the row. A subclass with a
        `make_prompt` of its own makes other prompts than the template's: its are checked at reset."""
        if type(self).make_prompt is not VerifiedEnv.make_prompt:
            return
        if self.source is self._built_source:
            longest = self._tasks.longest_prompt(prompt)
        elif isinstance(self.source, ListSource):
            longest = longest_prompt(prompt, self.source.tasks)
        else:
            return
        check_prompt_length(prompt, longest, self.source.tasks, max_obs_chars)


class _Tasks:
    """A built task list, shared (weakly cached) by the envs built from the same data."""

    __slots__ = ("tasks", "checked_prompts", "longest", "__weakref__")

    def __init__(self, tasks: list[Task]) -> None:
        self.tasks = tasks
        #: the templates `check_prompt_rows` has passed against these tasks
        self.checked_prompts: set[str] = set()
        #: `longest_prompt` of each template, worked out once
        self.longest: dict[str, tuple[int, int] | None] = {}

    def check_prompt(self, prompt: Prompt) -> None:
        """`check_prompt_rows` of `prompt` over these tasks, once per template."""
        if not isinstance(prompt, str) or prompt not in self.checked_prompts:
            check_prompt_rows(prompt, self.tasks)
            if isinstance(prompt, str):
                self.checked_prompts.add(prompt)

    def longest_prompt(self, prompt: Prompt) -> tuple[int, int] | None:
        """`longest_prompt` of `prompt` over these tasks, once per template."""
        if not isinstance(prompt, str):
            return None
        if prompt not in self.longest:
            self.longest[prompt] = longest_prompt(prompt, self.tasks)
        return self.longest[prompt]


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
            `GeneratorError` naming the env, the generator, the field and its value. So does an
            exception the generator raises (naming the task index or seed; the exception is its
            cause), and, when the env is built, a generator that makes two different tasks from
            one seed (it draws from `random` or the clock instead of `rng`).
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
        # a generator that makes unusable tasks, or other tasks from the same seed, fails here, not mid-training
        sample = source.check_deterministic(0)
        check_prompt(prompt, sample)
        super().__init__(source, scorer, prompt=prompt, **kwargs)


def _spec_id(env: Any) -> "_SpecId":
    """A callable giving `env`'s registered id (its `spec`, which `gym.make` sets after `__init__`),
    or None before that; it holds `env` weakly, so its task source does not keep it alive."""
    return _SpecId(env)


class _SpecId:
    """`_spec_id`'s callable: a class, not a closure, so that the env's task source pickles. A
    weak reference does not pickle, so a pickled one keeps the id it gives then."""

    __slots__ = ("_ref", "_fixed")

    def __init__(self, env: Any = None, fixed: str | None = None) -> None:
        self._ref = weakref.ref(env) if env is not None else None
        self._fixed = fixed

    def __call__(self) -> str | None:
        if self._ref is None:
            return self._fixed
        spec = getattr(self._ref(), "spec", None)
        return spec.id if spec is not None else None

    def __reduce__(self) -> tuple[Any, ...]:
        return _SpecId, (None, self())
