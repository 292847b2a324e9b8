"""`rlvr/ToolMath-v0`: multi-turn maths where the model may call tools before answering.

Each turn the model either calls tools — `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`
in its text (Hermes/Qwen format), or OpenAI-style `tool_calls` in an assistant message dict — or
gives its final answer (a turn without tool calls), which is verified like Math-v0. Tool results
come back as the observation (`<tool_response>...</tool_response>` blocks) and as `role: "tool"`
messages, with any chat-control markup in them (`<|im_end|>`, `</tool_response>`, `[INST]`...)
broken by a zero width space (`neutralised`), so that a tool's output cannot forge turns. Reaching
`max_turns` without a final answer truncates the episode; that last step's observation is still
its tool responses (the episode's true next observation, as with Gymnasium's `TimeLimit`), while a
final answer's step observes "".

A turn's observation (its tool responses) stays within the observation space (`max_obs_chars`):
the env refuses, when built, a `max_obs_chars` too small for `max_calls_per_turn` results of
`max_tool_output_chars` each, and cuts, with a marker, the rare turn whose many calls beyond
`max_calls_per_turn` (each answered with a short error) would still make it longer.

Calls are read by `rlvr.envs.toolcalls.parse_tool_calls`: strict JSON (NaN and infinities are
errors), OpenAI-style entries of type "function" only, and no `<tool_call>` block inside the
model's reasoning (a closed `<think>…</think>` block, or the text before a `</think>` the response
never opened, as under Qwen3's template): a call only drafted there is no call, so a turn whose
other text answers is a final answer. A turn with both OpenAI-style `tool_calls` and `<tool_call>`
text runs the `tool_calls` and answers each text call with an error (a failed call), so that every
call the recorded turn shows has a reply; its assistant message declares the text calls in its
`tool_calls` too (`begin_turn`), so that every reply names a call the message declares.

Reward parts: a `process` score per tool turn (1 when every call parsed and ran, 0 when any was
malformed — bad JSON, unknown tool, wrong arguments — or failed; calls not run because the
calculator was busy do not count, and a turn with no other call gets 0), `outcome` at the end,
`format` for a `\\boxed{}` final answer. With `process_reward="steps"` the reasoning of every turn
(its text outside the tool calls) is checked with `verify_steps` too: a tool turn whose calls all
parsed and ran then gets the mean of its tool-call credit (1) and the steps score (when anything was
checkable), a turn with a failed call still gets 0, and a turn whose calls were all skipped as
busy gets the steps score alone (0 when nothing was checkable), as the final turn does: its
`process` is its steps score. A malformed call is never an exception: the model reads an error
message and may try again. An infrastructure failure — the sandbox or the calculator's workers
failing (returning a sandbox error or raising, workers that cannot start, a stuck pool), or the
steps check failing — ends the episode as invalid (`info["valid"]` False), never as the model's
failed call. `turn_details["tool_calls"]` lists the turn's calls, each `{"id", "name", "ok"}`;
when a tool's infrastructure failed, the calls before it and then the failing one, with `ok` None
and `infra_error`, the failure's message.

When the `process` part is paid (`process_credit`): by default ("on_answer") a tool turn pays
nothing at its step (`turn_details["process_score"]` reports what "per_turn" would pay it), and the
final answer's step pays the episode's process credit (`turn_details["process_paid"]`), the
product of two fractions:
- `calls`: 1 when no tool turn had a malformed or failed call (also when it made none; a turn
  skipped as busy is not scored), else 0. Good calls do not count: paid as the share of the tool
  turns made that ran, a failed call followed by trivial good ones (`1`) bought its credit back
  (0 alone, 0.5 with one such call, 0.83 with five);
- `steps`: 1 without `process_reward="steps"`; with it, the steps score of the episode's reasoning
  — every turn's text outside its tool calls, and the answer, checked as one solution in parts, one
  per turn: each turn is read within its own window (its first 200 lines, `verify_steps`), so prose
  in one turn never pushes another's claims out of reading, and a claim repeated in two turns is
  judged once — or 0 when nothing in it was checkable.
A tool call never raises the credit: an answer with no call earns what one after any number of
good calls earns (1.1 under the default weights, right; 0.1 wrong), each failed call's turn costs
its share whatever calls come after it, and the reasoning written in tool turns counts as it would
written in the answer. An
episode that runs out of turns without answering is paid nothing. (Paid as a mean of per-turn
scores, a direct answer earned 0 and one needless call before it 1, so a policy learned to make
one.) `process_credit="per_turn"` pays each turn's score at that turn (per-turn credit
assignment) with two hazards: a policy earns more by calling tools until `max_turns` than by
answering wrongly, and more by calling needless tools before a right answer than by giving it.

Time limits: each call runs under its tool's limit (`calculator_timeout`, default 2 s;
`tool_timeout`, default 10 s, for python and your own tools), and all the calls of one turn
together may run at most `turn_timeout` seconds (default 20): each call's limit is cut to what is
left, a call past its limit is a failed call, and calls after the budget is spent are not run
(failed calls too: the model's own calls spent it). Your tools run in a thread that is abandoned,
still running, at the limit (`rlvr.envs.tools.Tool.run`). Waiting for a free calculator worker —
they are shared by every env of the process and held by the other episodes' calls — is not
charged to the turn: it is bounded on its own (at most `turn_timeout` per turn, all waits
together), so a step's tool calls end within about twice `turn_timeout`. A call that got no worker
within that is not run: the model reads that the calculator was busy and may call again, and the
call is not scored (`ok` None in `turn_details`): the turn's tool-call credit comes from its other
calls, the ones that ran, and a turn none of whose calls ran earns none (a skipped call is no work
done; `turn_details["process"]["tool_calls"]` is then None). Blaming the model would make its reward
depend on other episodes' calls, and calling it an infrastructure failure would drop sound episodes
because of another one's. A sandboxed program's wait for a free execution slot is the sandbox's
(`rlvr.sandbox.slots`), and not charged either.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

from rlvr.envs.base import Setting, Turn, positive_int
from rlvr.envs.math_env import MathEnv
from rlvr.envs.process import StepsCheckError, reasoning_of, steps_reward
from rlvr.envs.rewards import RewardWeights, zero_parts
from rlvr.envs.tasks import Task
from rlvr.envs.toolcalls import OPEN_TAG, TOOL_CALL_RULES, openai_tool_calls, parse_tool_calls
from rlvr.envs.calculator import CALCULATOR_RULES, DEFAULT_CALCULATOR_TIMEOUT, make_calculator
from rlvr.envs.content_digest import content_sha256
from rlvr.envs.python_tool import make_python, sandbox_settings, shared_sandbox
from rlvr.envs.scoring import callable_identity
from rlvr.envs.tools import (ERROR_PREFIX, Tool, ToolBusy, ToolCrash, ToolError, ToolInfraError, TurnBudget, crash_text,
                             tool, truncate_output)
from rlvr.sandbox import check_backend
from rlvr.verifiers.verdict import Verdict

BUILTIN_TOOLS = ("python", "calculator")

SYSTEM_TEMPLATE = (
    "You can call tools to help you. To call one, write\n"
    '<tool_call>{{"name": <tool name>, "arguments": <JSON object>}}</tool_call>\n'
    "and wait for the <tool_response>. Available tools:\n{tools}\n"
    "When you are done, answer without a tool call and put the final answer within \\boxed{{}}."
)


def listing_prompt(functions: Iterable[Mapping[str, Any]]) -> str:
    """`SYSTEM_TEMPLATE` filled with one JSON line per tool (the function part of its OpenAI
    schema): ToolMath-v0's default system prompt, and what a raw-text rollout writes for the tools
    when a `system_prompt=` of one's own leaves them out (`trainers.opening_prompt.tool_listing`).
    The descriptions are written as they are, not as \\uXXXX escapes: the model reads them."""
    return SYSTEM_TEMPLATE.format(tools="\n".join(json.dumps(f, ensure_ascii=False) for f in functions))


class ToolMathEnv(MathEnv):
    """Multi-turn maths with tools (python in the sandbox, a sympy calculator, your own).

    Args:
        dataset: as for Math-v0 (default: the built-in sample set).
        tools: a list of extra tools (`Tool` objects or functions, decorated with `@tool` or
            not). A tool named like an offered built-in, or like another of these, is refused: to
            replace a built-in, leave it out of `builtin_tools`.
        builtin_tools: a list or tuple of the built-in tools to offer (default both: "python",
            "calculator"); `("calculator",)` for one.
        max_turns: model turns per episode (default 4).
        sandbox: a `Sandbox` for the python tool (default: one shared sandbox per process).
        sandbox_backend: backend of the shared sandbox ("auto").
        tool_timeout: seconds per python run or call of your own tools (default 10); also the
            limit of a python tool of yours made with `make_python`, or its own `timeout` when
            that is smaller (`Tool.with_limits`; not one whose `fn` or `limited` you replaced).
        calculator_timeout: seconds per calculator evaluation (default: 2, or `tool_timeout` if
            smaller).
        turn_timeout: seconds all the tool calls of one turn may run together (default 20; see
            the module docstring).
        max_calls_per_turn: tool calls executed per turn (more are refused with an error).
        max_tool_output_chars: what the model reads of each tool call (any tool's result or error
            text) is cut to this length, with a marker saying so; a python tool's text (the
            built-in's, or one of yours made with `make_python`, whose own `max_output_chars`
            applies when smaller) keeps its status line and the end of stderr.
        process_credit: when the `process` part is paid (see the module docstring): "on_answer"
            (default) pays the episode's credit (0 after a failed tool turn, else the
            steps score) with the final answer, and nothing to an episode that never answers; "per_turn"
            pays each turn's score at that turn.
        system_prompt: default: instructions with the tool schemas; "" for none.
        **kwargs: as for Math-v0 (`question_key`, `reward_weights` (default process 0.1; a mapping
            keeps the default of each part it leaves out, see `reward_weights`),
            `max_obs_chars` (at least `max_calls_per_turn * (max_tool_output_chars + 200)`)...).

    `close()` (Gymnasium's, which does nothing) is safe to call more than once: the env creates
    no sandbox of its own. The python tool runs in the sandbox given as `sandbox=`, which belongs to
    the caller (close it yourself, e.g. `with make_sandbox(...) as sandbox:`), or else in the
    sandbox shared by every env of the process (`rlvr.envs.python_tool.shared_sandbox`: every
    ToolMath-v0 and Code-v0 env, every sub-env of a vector env, a warm-up env and the training envs
    after it), whose worker processes end with the process. Closing either would break the other
    envs using it, so neither is closed; nor is the calculator's worker pool, shared the same way.
    The env stays usable: a reset after `close` starts an episode as before.
    """

    env_name = "ToolMath"
    # recorded in the fingerprint (see `Setting`); the tools, and the limits built into them when
    # the env is built, stay as built
    process_credit = Setting("_checked_process_credit")
    turn_timeout = Setting("_checked_seconds")
    max_calls_per_turn = Setting("_checked_positive")
    tools = Setting(fixed=True)
    tool_timeout = Setting(fixed=True)
    calculator_timeout = Setting(fixed=True)
    max_tool_output_chars = Setting(fixed=True)
    _POSITIVE_MEANINGS = {**MathEnv._POSITIVE_MEANINGS, "max_calls_per_turn": "the most tool calls run per turn"}

    def __init__(
        self,
        dataset: Any = None,
        *,
        tools: Sequence[Tool | Callable[..., Any]] = (),
        builtin_tools: Sequence[str] = BUILTIN_TOOLS,
        max_turns: int = 4,
        sandbox: Any = None,
        sandbox_backend: str = "auto",
        tool_timeout: float = 10.0,
        calculator_timeout: float | None = None,
        turn_timeout: float = 20.0,
        max_calls_per_turn: int = 4,
        max_tool_output_chars: int = 4000,
        process_credit: str = "on_answer",
        system_prompt: str | None = None,
        reward_weights: Any = None,
        **kwargs: Any,
    ) -> None:
        self.process_credit = process_credit
        self._held: list[tuple[float | None, str]] = []  # per tool turn: (call credit, its reasoning)
        builtin_tools = _builtin_names(builtin_tools)
        tools = _tool_list(tools)
        self._sandbox = sandbox
        self._sandbox_backend = check_backend(sandbox_backend)
        self.tool_timeout = _seconds("tool_timeout", tool_timeout)
        self.calculator_timeout = (min(self.tool_timeout, DEFAULT_CALCULATOR_TIMEOUT) if calculator_timeout is None
                                   else _seconds("calculator_timeout", calculator_timeout))
        self.turn_timeout = turn_timeout
        # (0 calls per turn would refuse every call: zero process reward for every tool turn)
        self.max_calls_per_turn = max_calls_per_turn
        self.max_tool_output_chars = positive_int("max_tool_output_chars", max_tool_output_chars,
                                                  "the most characters of a tool's reply")
        found: dict[str, Tool] = {}
        own: list[str] = []  # the names of the tools given (not built in)
        # the python tool escapes and fits its own text (keeping the status and stderr's end), so
        # that the fit counts the escapes; `run_call` escapes and cuts every other tool's text, once
        if "python" in builtin_tools:
            found["python"] = make_python(self._get_sandbox, timeout=self.tool_timeout, max_output_chars=self.max_tool_output_chars,
                                          escape=reply_text)
        if "calculator" in builtin_tools:
            found["calculator"] = make_calculator(timeout=self.calculator_timeout, max_output_chars=None)
        for k, item in enumerate(tools):
            extra = self._under_limits(_as_tool(item, k, builtin_tools))
            if extra.name in found:
                what = "a built-in tool" if extra.name in BUILTIN_TOOLS else "another of the tools given"
                fix = (f"to replace the built-in, leave it out: builtin_tools={tuple(n for n in builtin_tools if n != extra.name)!r}"
                       if extra.name in BUILTIN_TOOLS else "give each tool its own name (@tool(name=...))")
                raise ValueError(f"tool {extra.name!r} has the name of {what}; {fix}")
            found[extra.name] = extra
            own.append(extra.name)
        if not found:
            raise ValueError("ToolMath-v0 needs at least one tool: keep a built-in tool or pass tools=[...]")
        self.tools = found
        self._own_tools = tuple(own)
        self._listing_prompt = listing_prompt(t.schema()["function"] for t in found.values())
        if system_prompt is None:
            system_prompt = self._listing_prompt
        # (max_obs_chars is checked against the tool replies of a turn: `_checked_positive`)
        super().__init__(dataset, max_turns=max_turns, system_prompt=system_prompt or None, reward_weights=reward_weights, **kwargs)

    def _under_limits(self, given: Tool) -> Tool:
        """`given`, or for a tool whose limits the env sets (`Tool.with_limits`: a `make_python`
        tool), a copy under `tool_timeout` and `max_tool_output_chars` (or its own, smaller ones),
        escaping its text before it fits it, as the built-in python tool does. The copy keeps the
        given tool's name, description and parameters; the given tool is left unchanged.

        A copy of a `make_python` tool whose `fn` or `limited` the user replaced (a wrapper adding
        imports, say) is left as given: a rebuild would silently drop the wrapper, so it runs under
        its own limits, as every tool of the user's with `limited` does (`with_limits` says so by
        returning it)."""
        if given.with_limits is None:
            return given
        made = given.with_limits(given, timeout=self.tool_timeout, max_output_chars=self.max_tool_output_chars,
                                 escape=reply_text)
        if made is given:
            return given
        return dataclasses.replace(given, fn=made.fn, limited=made.limited, output_limit=made.output_limit,
                                   with_limits=made.with_limits)

    def _checked_process_credit(self, name: str, value: Any) -> str:
        if value not in PROCESS_CREDITS:
            raise ValueError(f"process_credit must be one of {list(PROCESS_CREDITS)}, got {value!r}")
        return value

    def _checked_seconds(self, name: str, value: Any) -> float:
        return _seconds(name, value)

    def _checked_positive(self, name: str, value: Any) -> int:
        """`TextEnv`'s check; `max_obs_chars` must also hold a turn's tool responses, as many as
        `max_calls_per_turn` of up to `max_tool_output_chars` each (checked once both are set)."""
        if name in ("max_obs_chars", "max_calls_per_turn"):
            value = positive_int(name, value, self._POSITIVE_MEANINGS[name])
            settings = self.__dict__
            obs_chars = value if name == "max_obs_chars" else settings.get("max_obs_chars")
            calls = value if name == "max_calls_per_turn" else settings.get("max_calls_per_turn")
            if obs_chars is not None and calls is not None:
                _check_room(obs_chars, calls, self.max_tool_output_chars)
        return super()._checked_positive(name, value)

    @property
    def reward_weights(self) -> RewardWeights:
        """The weights of the reward parts (see `TextEnv.reward_weights`). ToolMath-v0's defaults
        are `DEFAULT_REWARD_WEIGHTS` (process 0.1), and a mapping, given to the constructor or
        assigned here, keeps the default of each part it leaves out: `{"format": 0.2}` keeps the
        process weight 0.1 (it was dropped to 0), `{"process": 0}` turns it off. A `RewardWeights`
        is taken as it is: it names every part."""
        return MathEnv.reward_weights.fget(self)

    @reward_weights.setter
    def reward_weights(self, value: RewardWeights | Mapping[str, float] | None) -> None:
        if value is None or isinstance(value, Mapping):
            value = {**DEFAULT_REWARD_WEIGHTS, **(value or {})}
        MathEnv.reward_weights.fset(self, value)

    def _get_sandbox(self) -> Any:
        if self._sandbox is None:
            self._sandbox = shared_sandbox(self._sandbox_backend)
        return self._sandbox

    def tool_schemas(self) -> list[dict[str, Any]]:
        """The tools in OpenAI function format (pass to a chat template as `tools=`), as plain
        JSON data (see `Tool.schema`)."""
        return [t.schema() for t in self.tools.values()]

    @property
    def tools_in_prompt(self) -> bool:
        """Whether the system prompt lists the tools: it is the default one (which does), also after
        `system_prompt` was set again. A chat template given `tools=` as well would list them a second
        time, so the reset info says so and rollouts then leave them out of the template."""
        return self.system_prompt == self._listing_prompt

    def reset_details(self) -> dict[str, Any]:
        """`tools`, the schemas, and `tools_in_prompt`: whether the system prompt already lists them
        (the default one does), in which case a chat template must not be given them as well."""
        return {"tools": self.tool_schemas(), "tools_in_prompt": self.tools_in_prompt}

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "tools": sorted(self.tools),
            # the code of the tools given, which a schema does not show (the built-ins' is rlvr's)
            **({"tool_code": {name: _tool_identity(self.tools[name]) for name in self._own_tools}} if self._own_tools else {}),
            # what the model is told about them (descriptions, parameters), wherever it is shown
            "tool_schemas": content_sha256(self.tool_schemas())[:16],
            "tool_timeout": self.tool_timeout,
            **({"calculator_timeout": self.calculator_timeout} if "calculator" in self.tools else {}),
            "turn_timeout": self.turn_timeout,
            "process_credit": self.process_credit,
            # 2: "on_answer" pays the calls share x the whole reasoning's steps score (1: the mean of the turn scores);
            # 3: that reasoning is read turn by turn, each turn within its own window of lines;
            # 4: the calls fraction is 0 after any failed tool turn, else 1 (3: the share of good ones)
            **({"process_credit_rules": 4} if self.process_credit == "on_answer" else {}),
            # what the calculator answers (`rlvr.envs.calculator.CALCULATOR_RULES`)
            **({"calculator_rules": CALCULATOR_RULES} if "calculator" in self.tools else {}),
            # how tool calls are read from the reply (`rlvr.envs.toolcalls.TOOL_CALL_RULES`)
            "tool_call_rules": TOOL_CALL_RULES,
            "max_calls_per_turn": self.max_calls_per_turn,
            "max_tool_output_chars": self.max_tool_output_chars,
            # how a tool's text is made the model's reply (`TOOL_REPLY_RULES`)
            "tool_reply_rules": TOOL_REPLY_RULES,
            # decides whether a turn's tool responses are cut (`_fit_observation`)
            "max_obs_chars": self.max_obs_chars,
            # the built-in python tool's sandbox: its backend ("auto" resolved), default limits and
            # interpreter or image (`sandbox_settings`); a python tool of yours runs in a sandbox of its own
            **(sandbox_settings(self._get_sandbox, self._sandbox_backend)
               if "python" in self.tools and "python" not in self._own_tools else {}),
        }

    def run_call(self, name: str | None, arguments: dict[str, Any], error: str | None,
                 budget: TurnBudget | None = None) -> tuple[str, bool | None]:
        """Run one call within `budget` (its turn's; default: a fresh `turn_timeout`); (text for
        the model, whether it parsed and ran: True, False, or None when it was not run for a
        reason that is not the model's, the calculator busy with other calls). Raises
        ToolInfraError.

        The text, a result or an error, is made safe to show (`reply_text`): what UTF-8 cannot
        encode (a lone surrogate) written as its escape (`encodable`), so that a tokenizer can read
        the observation and the messages, and chat-control markup (`<|im_end|>`, `</tool_response>`,
        `[INST]`...) broken with a zero width space (`neutralised`), so that no tool output, nor
        an error echoing the model's text, can end the tool message or forge a turn when the
        messages are rendered and tokenised. Then it is cut to `max_tool_output_chars`, for every
        tool alike (a user tool returning, or failing with, megabytes must not flood the context),
        except what a tool that fits its text to that limit itself said. The python tool escapes
        its text before it fits it (`make_python`'s `escape`), so that the status line and the end
        of stderr it keeps are not cut off again here; escaping that text again changes nothing.
        """
        text, ok, fitted = self._call_tool(name, arguments, error, budget if budget is not None else TurnBudget(self.turn_timeout))
        escaped = reply_text(text)
        # a fitted text stays as the tool fitted it (markers may take it past the limit): the python
        # tool's, escaped already; another tool's that fits itself (`Tool.output_limit`) but does
        # not escape, unless the escapes took it past the limit: then it is cut too
        if fitted and (escaped == text or len(escaped) <= self.max_tool_output_chars):
            return escaped, ok
        return truncate_output(escaped, self.max_tool_output_chars), ok

    def _call_tool(self, name: str | None, arguments: dict[str, Any], error: str | None,
                   budget: TurnBudget) -> tuple[str, bool | None, bool]:
        """`run_call` before the cut, and whether the text is the tool's own, already fitted."""
        if error is not None:
            return ERROR_PREFIX + error, False, False
        chosen = self.tools.get(name or "")
        if chosen is None:
            return f"{ERROR_PREFIX}unknown tool {name!r}; available tools: {sorted(self.tools)}", False, False
        problem = chosen.check_arguments(arguments)
        if problem:
            return ERROR_PREFIX + problem, False, False
        if budget.run_left <= 0:
            return (f"{ERROR_PREFIX}this turn's tool calls have used all of their {budget.seconds:g}s; this call was not run "
                    "(make fewer or quicker calls)"), False, False
        fitted = chosen.output_limit is not None and chosen.output_limit <= self.max_tool_output_chars
        try:
            return chosen.run(arguments, budget, timeout=self.tool_timeout), True, fitted
        except ToolInfraError:
            raise
        except ToolBusy as exc:
            return f"{ERROR_PREFIX}{exc}", None, False
        except ToolError as exc:  # a ToolCrash (a user tool raising) is not the tool's own fitted text
            return f"{ERROR_PREFIX}{exc}", False, fitted and not isinstance(exc, ToolCrash)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - a tool that crashes: the model reads why
            # (user tools' failures come as ToolCrash, their text made under the time limit: `Tool.run`)
            return ERROR_PREFIX + crash_text(name, exc), False, False

    def begin_turn(self, action: Any) -> tuple[str, list[dict[str, Any]] | None, Turn | None]:
        """The base env's `begin_turn`; for a turn with both OpenAI-style `tool_calls` and
        `<tool_call>` text, the recorded assistant message declares the text calls too, after the
        others (`openai_tool_calls` given the text): `respond` answers each with an error, and an
        OpenAI-format server or chat template refuses a reply naming a call its message does not
        declare."""
        content, tool_calls, turn = super().begin_turn(action)
        if tool_calls and OPEN_TAG in content:
            assistant = self._messages[-1]
            recorded = openai_tool_calls(tool_calls, self._turn, content)
            if len(recorded) > len(assistant["tool_calls"]):
                # a new list and message: the last info's facts hold the old list
                self._messages = [*self._messages[:-1], {**assistant, "tool_calls": recorded}]
        return content, tool_calls, turn

    def batch_verify(self, task: Task, content: str, tool_calls: Any) -> None:
        return None  # a turn may call tools: always go through respond

    def respond(self, task: Task, content: str, tool_calls: list[dict[str, Any]] | None) -> Turn:
        calls = parse_tool_calls(content, tool_calls, turn=self._turn)
        if not calls:  # a final answer (process credit for its steps, when enabled)
            return self.complete_turn(task, content, tool_calls, self.verify(task, content))
        messages, responses, report = [], [], []
        scored: list[bool] = []  # whether each call that counts parsed and ran (skipped ones do not count)
        budget = TurnBudget(self.turn_timeout)
        for k, call in enumerate(calls):
            ok: bool | None
            if k >= self.max_calls_per_turn:
                text, ok = f"{ERROR_PREFIX}at most {self.max_calls_per_turn} tool calls per turn; this one was not run", False
            else:
                try:
                    text, ok = self.run_call(call.name, call.arguments, call.error, budget)
                except ToolInfraError as exc:  # the failing call is reported too, unscored
                    report.append({"id": call.id, "name": call.name, "ok": None, "infra_error": str(exc)})
                    return Turn(done=True, verdict=Verdict.failed(str(exc)), details={"tool_calls": report})
            if ok is not None:  # a call not run for others' load (None) is not scored
                scored.append(ok)
            messages.append({"role": "tool", "tool_call_id": call.id, "name": call.name or "", "content": text})
            responses.append(f"<tool_response>\n{text}\n</tool_response>")
            report.append({"id": call.id, "name": call.name, "ok": ok})
        parts = zero_parts()
        all_ok = all(scored)
        # the credit of the calls that ran; none when no call ran (all skipped as busy)
        call_credit = (1.0 if all_ok else 0.0) if scored else None
        signals = [] if call_credit is None else [call_credit]
        details: dict[str, Any] = {"tool_calls": report}
        if self.process_reward == "steps":  # the turn's reasoning, beside its calls
            try:
                steps_score, steps = steps_reward(reasoning_of(content), timeout=self.steps_timeout)
            except StepsCheckError as exc:
                return Turn(done=True, verdict=Verdict.failed(str(exc)), details={"tool_calls": report})
            if steps_score is not None:
                signals.append(steps_score)
            details["process"] = {"tool_calls": call_credit, "steps": steps}
        # a malformed or failed call earns no process credit for the turn, however sound the reasoning
        score = sum(signals) / len(signals) if all_ok and signals else 0.0
        details["process_score"] = score
        if self.process_credit == "on_answer":  # paid with the final answer (`process_score`)
            self._held.append((call_credit, reasoning_of(content)))
        else:
            parts["process"] = score
        return Turn(observation=self._fit_observation("\n".join(responses)), parts=parts, messages=messages, details=details)

    def process_score(self, task: Task, content: str) -> tuple[float, dict[str, Any] | None]:
        """The final answer's `process` part: with `process_credit="per_turn"`, its steps score
        (with `process_reward="steps"`; 0 when nothing was checkable); with "on_answer", the
        episode's credit (`episode_process_credit`): 0 after a failed tool turn, else the
        steps score of the whole episode's reasoning checked as one solution in parts, one per turn
        (each read within its own window of lines; a claim repeated in two turns judged once)."""
        if self.process_credit != "on_answer":  # (a call drafted in its <think> block is no reasoning either)
            return super().process_score(task, reasoning_of(content))
        calls = [credit for credit, _ in self._held if credit is not None]
        details: dict[str, Any] = {}
        steps_score = None
        if self.process_reward == "steps":
            # one solution in parts: each turn read within its own window (the lines read are
            # counted per turn: prose in one turn must not push the answer's claims out of reading)
            reasoning = [*(text for _, text in self._held if text.strip()), reasoning_of(content)]
            score, steps = steps_reward(reasoning, timeout=self.steps_timeout)
            steps_score = score or 0.0
            details["process"] = {"steps": steps}
        paid = episode_process_credit(calls, steps_score, tool_turns=self.max_turns - 1)
        details["process_paid"] = {"calls": calls, "steps": steps_score, "paid": paid}
        return paid, details

    def _begin_episode(self, task: Task, prompt: str | None = None) -> str:
        prompt = super()._begin_episode(task, prompt)
        self._held = []
        return prompt

    def _fit_observation(self, text: str) -> str:
        """`text` (a turn's tool responses), cut with a marker to `max_obs_chars` when longer.

        Only a turn with many calls beyond `max_calls_per_turn` can be longer (`__init__` refuses a
        `max_obs_chars` too small for the calls that run), so the cut takes the end of those
        short errors; the tool messages in `info["messages"]` keep every reply whole.
        """
        limit = self.max_obs_chars
        if len(text) <= limit:
            return text
        marker = f"\n[... tool responses truncated to {limit} characters (max_obs_chars)]"
        return text[:max(0, limit - len(marker))] + marker[:limit]


def episode_process_credit(calls: Sequence[float], steps: float | None, *, tool_turns: int | None = None) -> float:
    """The process credit a ToolMath-v0 episode's final answer is paid (`process_credit="on_answer"`).

    `calls`: per scored tool turn, 1.0 when all its calls parsed and ran, else 0.0. `steps`: the
    steps score of the episode's reasoning (0 when nothing was checkable), or None when steps are
    not checked. `tool_turns`: the most tool turns an episode can make before its answer
    (`max_turns - 1`; kept for callers, the rule does not use it). The credit is the steps score
    (1 when not checked) when no tool turn failed, else 0. Only failed turns count, so a good call
    changes nothing: it can neither raise the credit above a direct answer's (a needless call pays
    nothing) nor buy back a failed one's (as the share of the turns made that ran did: a failed
    call followed by trivial good ones earned 0.5 with one, 0.83 with five).
    """
    if any(credit < 1.0 for credit in calls):
        return 0.0
    return 1.0 if steps is None else steps


#: How a tool's text becomes the tool message (`ToolMathEnv.run_call`), for the fingerprint.
#: 1 (not recorded): as the tool wrote it (lone surrogates escaped), cut to `max_tool_output_chars`;
#: 2: chat-control markup in it broken with a zero width space (`neutralised`);
#: 3: the python tool escapes its text before it fits it, so that a long output with markup keeps
#: its status line and the end of stderr (2 cut the escaped text again, from its start).
TOOL_REPLY_RULES = 3

#: When ToolMath-v0 pays the `process` part: with the final answer, or at each turn.
PROCESS_CREDITS = ("on_answer", "per_turn")
#: ToolMath-v0's reward weights by default; a mapping given as `reward_weights` is merged over them.
DEFAULT_REWARD_WEIGHTS = {"outcome": 1.0, "format": 0.0, "process": 0.1}

#: Characters a turn's observation may need per call beyond `max_tool_output_chars`: the
#: `<tool_response>` tags, the newline between responses and the truncation markers.
_CALL_OVERHEAD = 200


def _check_room(max_obs_chars: int, max_calls_per_turn: int, max_tool_output_chars: int) -> None:
    """Refuse a `max_obs_chars` too small for a turn's tool responses (ValueError naming all three)."""
    needed = max_calls_per_turn * (max_tool_output_chars + _CALL_OVERHEAD)
    if max_obs_chars < needed:
        raise ValueError(f"max_obs_chars={max_obs_chars} is too small for a turn's tool responses: "
                         f"max_calls_per_turn={max_calls_per_turn} results of up to max_tool_output_chars="
                         f"{max_tool_output_chars} characters each (plus {_CALL_OVERHEAD} for markers and tags) "
                         f"need up to {needed}; raise max_obs_chars to {needed} or lower the other two")


def _tool_identity(tool: Tool) -> dict[str, Any]:
    """What a tool given to ToolMath-v0 runs, for the fingerprint: its function's identity
    (`callable_identity`: name, code digest, closure and bound values), and its `limited` one's."""
    identity = {"fn": callable_identity(tool.fn)}
    if tool.limited is not None:
        identity["limited"] = callable_identity(tool.limited)
    return identity


def _seconds(name: str, value: Any) -> float:
    """`value` as a time limit in seconds, or a ValueError naming `name` (a positive, finite number)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return float(value)


def _builtin_names(builtin_tools: Any) -> tuple[str, ...]:
    """`builtin_tools` as a tuple of built-in tool names, or an error naming the fix: a str is one
    name, not a list of them (its letters would be read as names)."""
    if isinstance(builtin_tools, str):
        raise TypeError(f"builtin_tools takes a list or tuple of names, not a string: write "
                        f"builtin_tools=({builtin_tools!r},)")
    try:
        names = tuple(builtin_tools)
    except TypeError:
        raise TypeError(f"builtin_tools takes a list or tuple of names among {list(BUILTIN_TOOLS)}, got "
                        f"{type(builtin_tools).__name__}") from None
    unknown = [name for name in names if name not in BUILTIN_TOOLS]
    if unknown:
        raise ValueError(f"unknown built-in tool(s) {unknown}; the built-in tools are {list(BUILTIN_TOOLS)}")
    return names


def _tool_list(tools: Any) -> tuple[Any, ...]:
    """`tools` as a tuple, or an error naming the fix for one tool or one name given alone."""
    if isinstance(tools, str):
        fix = (f"to offer the built-in tool, write builtin_tools=({tools!r},)" if tools in BUILTIN_TOOLS
               else "write tools=[my_function]")
        raise TypeError(f"tools takes a list of tools (functions or Tool objects), not a string {tools!r}: {fix}")
    if isinstance(tools, Tool) or callable(tools):
        name = tools.name if isinstance(tools, Tool) else getattr(tools, "__name__", "my_tool")
        raise TypeError(f"tools takes a list of tools, got one {type(tools).__name__}: write tools=[{name}]")
    try:
        return tuple(tools)
    except TypeError:
        raise TypeError(f"tools takes a list of tools (functions or Tool objects), got "
                        f"{type(tools).__name__}") from None


def _as_tool(item: Any, k: int, builtin_tools: Sequence[str]) -> Tool:
    """`item`, the k-th of `tools=`, as a Tool: a Tool checked again (`Tool.validate`: it may have
    been changed since it was built), anything else built by `tool()`. What either refuses is
    raised again naming the position, with, for a built-in tool's name, how to offer it."""
    try:
        if isinstance(item, Tool):
            item.validate()
            return item
        return tool()(item)  # not tool(item): tool(None) is the decorator form, not a refusal
    except (TypeError, ValueError) as exc:
        hint = (f"; to offer the built-in tool {item!r}, use builtin_tools=(..., {item!r}) (now {tuple(builtin_tools)!r})"
                if isinstance(item, str) and item in BUILTIN_TOOLS else "")
        kind = TypeError if isinstance(exc, TypeError) else ValueError
        raise kind(f"tools[{k}]: {exc}{hint}") from exc


def encodable(text: str) -> str:
    """`text` as a plain str that UTF-8 can encode: what it cannot (a lone surrogate from a tool)
    written as its backslash escape (`\\ud800`)."""
    try:
        text.encode("utf-8")
        return str.__str__(text)
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


#: What `neutralised` puts after the opening bracket of chat-control markup: a ZERO WIDTH SPACE,
#: which the model's tokenizer reads as a character of its own, so the markup is no longer the
#: special token or tag (no tokenizer matches a special token across it, and NFKC keeps it), while
#: the text looks the same to a person reading it.
ZWSP = "\u200b"

#: The opening bracket of chat-control markup, matched with the rest of the markup ahead:
#: `<|...|>` special tokens (ChatML/Qwen, Llama 3, Phi, Granite...) and DeepSeek's `<｜...｜>`
#: (full-width bar); the Hermes/Qwen tool tags, `<think>`, Gemma's turn tags, `<s>`, `<bos>`,
#: `<eos>` and Llama 2's `<<SYS>>`, opening or closing; Mistral's `[INST]`, `[TOOL_RESULTS]`...
_CONTROL = re.compile(
    "<(?=[|\uff5c])"
    "|<(?=/?(?:tool_call|tool_response|tools|think|start_of_turn|end_of_turn|s|bos|eos)>|</?SYS>>)"
    "|\\[(?=/?(?:INST|TOOL_CALLS|TOOL_RESULTS|TOOL_CONTENT|AVAILABLE_TOOLS|SYSTEM_PROMPT|THINK)\\])")


def reply_text(text: str) -> str:
    """`text`, a tool's reply, as the model reads it: `encodable`, then `neutralised`. Idempotent:
    a text it made is returned unchanged."""
    return neutralised(encodable(text))


def neutralised(text: str) -> str:
    """`text` (a tool's reply) with a zero width space (`ZWSP`) after the `<` or `[` of each piece
    of chat-control markup in it (`_CONTROL`): `<|im_end|>` becomes `<\\u200b|im_end|>`,
    `</tool_response>` `<\\u200b/tool_response>`, `[INST]` `[\\u200bINST]`.

    The tool message's text goes into the chat template, and the rendering is tokenised as a
    whole: a literal `<|im_end|>` printed by a python call would be the special token, ending the
    tool message and letting the output forge user or assistant turns (or more tool responses)
    that the model then conditions on. Escaping it in the env holds for any tokenizer and for a
    chat server rendering the same messages. The escape is deterministic and idempotent (an
    escaped text has no markup left), and text with neither `<` nor `[` is returned at once.
    """
    if "<" not in text and "[" not in text:
        return text
    return _CONTROL.sub("\\g<0>" + ZWSP, text)
