"""`rlvr/ToolMath-v0`: multi-turn maths where the model may call tools before answering.

Each turn the model either calls tools — `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`
in its text (Hermes/Qwen format), or OpenAI-style `tool_calls` in an assistant message dict — or
gives its final answer (a turn without tool calls), which is verified like Math-v0. Tool results
come back as the observation (`<tool_response>...</tool_response>` blocks) and as `role: "tool"`
messages. Reaching `max_turns` without a final answer truncates the episode.

Reward parts: `process` per tool turn (1 when every call parsed and ran, 0 when any was
malformed — bad JSON, unknown tool, wrong arguments — or failed), `outcome` at the end, `format`
for a `\\boxed{}` final answer. With `process_reward="steps"` the reasoning of every turn (its
text outside the tool calls) is checked with `verify_steps` too: a tool turn whose calls all
parsed and ran then gets the mean of its tool-call credit (1) and the steps score (when anything was
checkable), a turn with a failed call still gets 0, and the final turn's `process` is its steps
score. A malformed call is never an exception: the model reads an error
message and may try again. An infrastructure failure — the sandbox or the calculator's workers
failing (returning a sandbox error or raising), or the steps check failing — ends the episode as
invalid (`info["valid"]` False), never as the model's failed call.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Sequence

from rlvr.envs.base import Turn
from rlvr.envs.math_env import MathEnv
from rlvr.envs.process import StepsCheckError, reasoning_of, steps_reward
from rlvr.envs.rewards import zero_parts
from rlvr.envs.tasks import Task
from rlvr.envs.toolcalls import parse_tool_calls
from rlvr.envs.tools import (Tool, ToolError, ToolInfraError, make_calculator, make_python, sandbox_in_use, shared_sandbox, tool,
                              truncate_output)
from rlvr.sandbox import check_backend
from rlvr.verifiers.verdict import Verdict

BUILTIN_TOOLS = ("python", "calculator")

SYSTEM_TEMPLATE = (
    "You can call tools to help you. To call one, write\n"
    '<tool_call>{{"name": <tool name>, "arguments": <JSON object>}}</tool_call>\n'
    "and wait for the <tool_response>. Available tools:\n{tools}\n"
    "When you are done, answer without a tool call and put the final answer within \\boxed{{}}."
)


class ToolMathEnv(MathEnv):
    """Multi-turn maths with tools (python in the sandbox, a sympy calculator, your own).

    Args:
        dataset: as for Math-v0 (default: the built-in sample set).
        tools: extra tools (`Tool` objects or functions, decorated with `@tool` or not).
        builtin_tools: which built-in tools to offer (default both: "python", "calculator").
        max_turns: model turns per episode (default 4).
        sandbox: a `Sandbox` for the python tool (default: one shared sandbox per process).
        sandbox_backend: backend of the shared sandbox ("auto").
        tool_timeout: seconds per python run / calculator evaluation.
        max_calls_per_turn: tool calls executed per turn (more are refused with an error).
        max_tool_output_chars: what the model reads of each tool call (any tool's result or error
            text) is cut to this length, with a marker saying so.
        system_prompt: default: instructions with the tool schemas; "" for none.
        **kwargs: as for Math-v0 (`question_key`, `reward_weights` (default process 0.1)...).
    """

    env_name = "ToolMath"

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
        max_calls_per_turn: int = 4,
        max_tool_output_chars: int = 4000,
        system_prompt: str | None = None,
        reward_weights: Any = None,
        **kwargs: Any,
    ) -> None:
        unknown = sorted(set(builtin_tools) - set(BUILTIN_TOOLS))
        if unknown:
            raise ValueError(f"unknown built-in tool(s) {unknown}; the built-in tools are {list(BUILTIN_TOOLS)}")
        self._sandbox = sandbox
        self._sandbox_backend = check_backend(sandbox_backend)
        self.tool_timeout = float(tool_timeout)
        self.max_calls_per_turn = int(max_calls_per_turn)
        self.max_tool_output_chars = int(max_tool_output_chars)
        if self.max_tool_output_chars < 1:
            raise ValueError(f"max_tool_output_chars must be a positive number of characters, got {max_tool_output_chars!r}")
        found: dict[str, Tool] = {}
        # the built-ins do not cut their text themselves: `run_call` cuts every tool's, once
        if "python" in builtin_tools:
            found["python"] = make_python(self._get_sandbox, timeout=self.tool_timeout, max_output_chars=None)
        if "calculator" in builtin_tools:
            found["calculator"] = make_calculator(timeout=self.tool_timeout, max_output_chars=None)
        for item in tools:
            extra = item if isinstance(item, Tool) else tool(item)
            found[extra.name] = extra
        if not found:
            raise ValueError("ToolMath-v0 needs at least one tool: keep a built-in tool or pass tools=[...]")
        self.tools = found
        if system_prompt is None:
            listing = "\n".join(json.dumps(t.schema()["function"]) for t in found.values())
            system_prompt = SYSTEM_TEMPLATE.format(tools=listing)
        if reward_weights is None:
            reward_weights = {"outcome": 1.0, "format": 0.0, "process": 0.1}
        super().__init__(dataset, max_turns=max_turns, system_prompt=system_prompt or None, reward_weights=reward_weights, **kwargs)

    def _get_sandbox(self) -> Any:
        if self._sandbox is None:
            self._sandbox = shared_sandbox(self._sandbox_backend)
        return self._sandbox

    def tool_schemas(self) -> list[dict[str, Any]]:
        """The tools in OpenAI function format (pass to a chat template as `tools=`)."""
        return [t.schema() for t in self.tools.values()]

    def reset_details(self) -> dict[str, Any]:
        return {"tools": self.tool_schemas()}

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "tools": sorted(self.tools),
            "tool_timeout": self.tool_timeout,
            "max_calls_per_turn": self.max_calls_per_turn,
            "max_tool_output_chars": self.max_tool_output_chars,
            # the python tool's backend, "auto" resolved (see `sandbox_in_use`)
            **({"sandbox_backend": sandbox_in_use(self._get_sandbox, self._sandbox_backend)} if "python" in self.tools else {}),
        }

    def run_call(self, name: str | None, arguments: dict[str, Any], error: str | None) -> tuple[str, bool]:
        """Run one call; (text for the model, whether it parsed and ran). Raises ToolInfraError.

        The text, a result or an error, is cut to `max_tool_output_chars` here, for every tool
        alike: a user tool returning (or failing with) megabytes must not flood the context.
        """
        text, ok = self._call_tool(name, arguments, error)
        return truncate_output(text, self.max_tool_output_chars), ok

    def _call_tool(self, name: str | None, arguments: dict[str, Any], error: str | None) -> tuple[str, bool]:
        """`run_call` before the cut."""
        if error is not None:
            return f"error: {error}", False
        chosen = self.tools.get(name or "")
        if chosen is None:
            return f"error: unknown tool {name!r}; available tools: {sorted(self.tools)}", False
        problem = chosen.check_arguments(arguments)
        if problem:
            return f"error: {problem}", False
        try:
            return chosen(**arguments), True
        except ToolInfraError:
            raise
        except ToolError as exc:
            return f"error: {exc}", False
        except Exception as exc:  # a user tool that crashes: the model reads why
            return f"error: tool {name!r} raised {type(exc).__name__}: {exc}", False

    def batch_verify(self, task: Task, content: str, tool_calls: Any) -> None:
        return None  # a turn may call tools: always go through respond

    def respond(self, task: Task, content: str, tool_calls: list[dict[str, Any]] | None) -> Turn:
        calls = parse_tool_calls(content, tool_calls, turn=self._turn)
        if not calls:  # a final answer (process credit for its steps, when enabled)
            return self.complete_turn(task, content, tool_calls, self.verify(task, content))
        messages, responses, report = [], [], []
        all_ok = True
        for k, call in enumerate(calls):
            if k >= self.max_calls_per_turn:
                text, ok = f"error: at most {self.max_calls_per_turn} tool calls per turn; this one was not run", False
            else:
                try:
                    text, ok = self.run_call(call.name, call.arguments, call.error)
                except ToolInfraError as exc:
                    return Turn(done=True, verdict=Verdict.failed(str(exc)), details={"tool_calls": report})
            all_ok = all_ok and ok
            messages.append({"role": "tool", "tool_call_id": call.id, "name": call.name or "", "content": text})
            responses.append(f"<tool_response>\n{text}\n</tool_response>")
            report.append({"id": call.id, "name": call.name, "ok": ok})
        parts = zero_parts()
        signals = [1.0 if all_ok else 0.0]
        details: dict[str, Any] = {"tool_calls": report}
        if self.process_reward == "steps":  # the turn's reasoning, beside its calls
            try:
                score, steps = steps_reward(reasoning_of(content), timeout=self.steps_timeout)
            except StepsCheckError as exc:
                return Turn(done=True, verdict=Verdict.failed(str(exc)), details={"tool_calls": report})
            if score is not None:
                signals.append(score)
            details["process"] = {"tool_calls": signals[0], "steps": steps}
        # a malformed or failed call earns no process credit for the turn, however sound the reasoning
        parts["process"] = sum(signals) / len(signals) if all_ok else 0.0
        return Turn(observation="\n".join(responses), parts=parts, messages=messages, details=details)
