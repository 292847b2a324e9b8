"""`rlvr eval`: pass@k of a benchmark, from saved completions or by sampling with an engine.

    rlvr eval --benchmark humaneval --completions samples.jsonl --k 1,2 --out runs/he [--data he.jsonl]
    rlvr eval --benchmark gsm8k --engine hf --model ./ckpt --n 16 --k 1,4,16 --out runs/gsm8k
    rlvr eval --benchmark math500 --engine openai --base-url http://127.0.0.1:8000/v1 --n 4 --out runs/m

Exit status: 0 done; 2 bad input (the message says what to fix); 3 done but some samples could not
be verified (sandbox outage: excluded from the metrics, rerun to score them); 4 the engine or its
server failed while sampling (any :class:`~rlvr.trainers.engine.EngineError` of the hf, vllm or
openai engine, or CUDA running out of memory; the samples finished so far are saved: rerun the same
command, same --out, to resume; other sampling settings need another --out once a sample is saved);
130 interrupted (Ctrl-C): the samples finished so far are saved, and the same command resumes. A
disk without room for --out's files is 2 too (a message, not a traceback; what was saved is kept).
An unexpected error once sampling began (a bug, not the input) is 1, with its traceback: exit 2 is
kept for the input's errors, which are found before anything is scored (`_is_input_error`).

The benchmark, its data, the options (--device included) and the --out folder's run are checked
before a local model (hf, vllm) is loaded, so a typo costs no model load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from rlvr.commands import positive_seconds

#: Exit status when the engine fails during sampling (see the module docstring).
EXIT_ENGINE_FAILED = 4


class _EngineOption(argparse.Action):
    """Stores an option that only applies when sampling with ``--engine`` and records, in
    ``engine_options`` ({option: the engines using it, or None for all}), that it was given: with
    ``--completions``, or with an engine that does not use it, it would be silently ignored, so
    `_check_args` refuses it instead (even at its default value, which shows it was meant).
    ``engines``: the engines that use the option (default: all)."""

    def __init__(self, option_strings, dest, engines: tuple[str, ...] | None = None, **kwargs) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.engines = engines

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        given = dict(getattr(namespace, "engine_options", {}))  # a copy: never the shared default
        given[option_string] = self.engines
        namespace.engine_options = given


#: The engines that use an engine-specific option (see `_EngineOption`).
_OPENAI, _LOCAL = ("openai",), ("hf", "vllm")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval", help="pass@k of a benchmark: score saved completions or sample them with an engine",
        description="Evaluate a benchmark (see `rlvr benchmarks list`). Either score completions generated "
                    "elsewhere (--completions FILE.jsonl, one {\"task_id\", \"completion\"} per line) or sample "
                    "--n completions per problem with an engine (--engine hf|vllm|openai). Writes samples.jsonl, "
                    "summary.json and pass_at_k.png to --out; rerunning with the same --out resumes.",
        epilog="Exit status: 0 done; 2 bad input, nothing scored (an option, --out, the data, the completions file, "
               "a model the hf engine cannot load, a server the openai engine cannot reach at the start, completions "
               "naming none of the problems evaluated; the message says what to fix); 3 done, but some samples could "
               "not be verified (a sandbox outage, the dataset's own tests failing): excluded from the metrics, rerun "
               "with the same --out to score them; 4 the engine or its server failed while sampling: the samples "
               "finished so far are saved, rerun the same command to resume; 130 interrupted (Ctrl-C), the saved "
               "samples kept; 141 stdout closed by its reader; 1 an unexpected error while sampling (a bug: its traceback "
               "is shown, the samples finished so far are kept). A disk without room left for --out's files is "
               "exit status 2 too, the samples scored before kept (rerun the same command once there is room).")
    p.add_argument("--benchmark", required=True, help="benchmark name (rlvr benchmarks list)")
    p.add_argument("--out", required=True, help="output folder (created; reused to resume)")
    p.add_argument("--k", default=None, help="comma-separated k for pass@k (default: 1 and powers of 2 up to --n with an engine; 1 with --completions)")
    p.add_argument("--data", default=None, help="local copy of the benchmark: a .jsonl/.json/.parquet/.csv file or a folder "
                                                "(default: download from the hub)")
    p.add_argument("--limit", type=int, default=None, help="only the first N problems")
    p.add_argument("--completions", default=None,
                   help="JSONL of completions to score (no engine needed; options only sampling uses, --model, --n, "
                        "--temperature..., are refused with it)")
    p.add_argument("--engine", choices=["hf", "vllm", "openai"], default=None, help="engine to sample with")
    # the options with action=_EngineOption only apply when sampling: refused with --completions, and
    # those with engines=... with any other engine
    p.add_argument("--model", action=_EngineOption, default=None,
                   help="hf/vllm: a save_pretrained folder or hub id ('tiny' = local tiny model for tests); openai: the "
                        "served model name (default: the server's first)")
    p.add_argument("--base-url", action=_EngineOption, engines=_OPENAI, default="http://127.0.0.1:8000/v1",
                   help="openai engine: API root (default %(default)s)")
    p.add_argument("--api-key", action=_EngineOption, engines=_OPENAI, default=None, help="openai engine: bearer token (default $OPENAI_API_KEY)")
    p.add_argument("--concurrency", action=_EngineOption, engines=_OPENAI, type=int, default=8,
                   help="openai engine: requests in flight (default 8); each sample is one request, so raise it with "
                        "--n > 1 on a big server")
    p.add_argument("--timeout", action=_EngineOption, engines=_OPENAI, type=positive_seconds, default=1800.0,
                   help="openai engine: seconds to wait for the server's answer to one request, which may queue behind "
                        "--concurrency others on the server (default %(default)s); a generation is never re-sent on timeout")
    p.add_argument("--n", action=_EngineOption, type=int, default=1, help="samples per problem (default 1)")
    p.add_argument("--temperature", action=_EngineOption, type=float, default=None,
                   help="sampling temperature (default 0.6 when n > 1, else 0); 0 (greedy) with --n > 1 is refused: "
                        "every sample would be the same answer")
    p.add_argument("--top-p", action=_EngineOption, type=float, default=1.0, help="nucleus sampling (default 1.0)")
    p.add_argument("--max-tokens", action=_EngineOption, type=int, default=1024,
                   help="generation limit per turn (default 1024)")
    p.add_argument("--seed", action=_EngineOption, type=int, default=None,
                   help="sampling seed: sample j of problem t (of N) gets seed + j*N + t, so a resumed or grown run "
                        "draws what one run would (default: a random base per run); every seed derived must lie in 0..2**63 - 1, "
                        "so --seed is at most 2**63 - 1 - ((n-1)*N + problems - 1)")
    p.add_argument("--system-prompt", action=_EngineOption, default=None, help="system message put before every prompt")
    p.add_argument("--max-chars", type=int, default=None,
                   help="score completions (model turns) longer than N characters wrong as over-long without checking "
                        "them (default: no cap)")
    p.add_argument("--max-turns", action=_EngineOption, type=int, default=None,
                   help="model turns per episode at most (multi-turn envs)")
    p.add_argument("--device", action=_EngineOption, engines=("hf",), default=None,
                   help="hf engine: cpu, cuda, cuda:1 ... (default or auto: cuda when available)")
    p.add_argument("--dtype", action=_EngineOption, engines=_LOCAL, default="auto", choices=["auto", "float32", "bfloat16", "float16"],
                   help="hf/vllm weights dtype")
    add_sandbox_options(p, "the model's code")
    p.add_argument("--ci", choices=["normal", "bootstrap"], default="normal",
                   help="confidence interval over problems (default: normal approximation)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run, engine_options={})


def add_sandbox_options(p, code: str) -> None:
    """--sandbox, --sandbox-python and --sandbox-image on `p`, for a command that runs `code` (the
    model's, the benchmark's references) in a sandbox: `rlvr eval` and `rlvr benchmarks check` take
    the same options, checked by `_sandbox_option_problem` and started by `_sandbox`."""
    p.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "docker", "subprocess"],
                   help=f"sandbox backend for {code}: code benchmarks and tool envs with the python tool "
                        "(default auto); refused for a benchmark whose env takes no sandbox")
    p.add_argument("--sandbox-python", default=None, metavar="PATH",
                   help=f"with --sandbox bwrap or subprocess: the Python interpreter {code} and the tests run "
                        "with (default the system's python3), e.g. a venv with numpy for HumanEval+/MBPP+; under bwrap it "
                        "must be readable by every user and lie outside /tmp and /work")
    p.add_argument("--sandbox-image", default=None, metavar="IMAGE",
                   help="with --sandbox docker: the image to run code in (default rlvr-sandbox:latest), e.g. one "
                        "built FROM it with python3-numpy")


def _fail(message: str) -> int:
    print(f"rlvr eval: {message}", file=sys.stderr)
    return 2


def _default_ks(n: int) -> list[int]:
    ks, k = [], 1
    while k <= n:
        ks.append(k)
        k *= 2
    return ks


def _sandbox(backend: str, python: str | None = None, image: str | None = None, command: str = "rlvr eval"):
    """The sandbox for the envs that run the model's code (code benchmarks, the python tool): None for
    "auto" (the env's own), a `_DownSandbox` when it cannot start (samples are then reported unverified).
    `python` (bwrap, subprocess) and `image` (docker) are passed on when given (`_sandbox_option_problem`
    has checked they fit the backend); a sandbox with them that cannot start is `_SandboxChoiceError`:
    a rerun as it stands would fail the same way, so nothing is run. `command` names the command in
    the warning (`rlvr benchmarks check` takes the same options)."""
    if backend == "auto":
        return None
    from rlvr.sandbox import make_sandbox

    options = {"python": python} if python else {"image": image} if image else {}
    try:
        return make_sandbox(backend, **options)
    except Exception as exc:
        if options:
            (name, value), = options.items()
            raise _SandboxChoiceError(f"--sandbox {backend} --sandbox-{name} {value}: {exc}") from None
        print(f"{command}: WARNING: the {backend!r} sandbox cannot start ({type(exc).__name__}: {exc}); samples whose "
              f"code needs it will be reported as unverified, not scored", file=sys.stderr)
        return _DownSandbox(f"{backend} sandbox unavailable: {exc}")


class _SandboxChoiceError(RuntimeError):
    """The --sandbox-python or --sandbox-image given cannot run (exit 2, with the reason)."""


class _DownSandbox:
    """Stands in for a sandbox that could not start: every run is a sandbox_error (never a wrong answer)."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.name = "unavailable"

    def run(self, code, **kwargs):
        from rlvr.sandbox import ExecResult

        return ExecResult.sandbox_error(self.message, "unavailable")

    def run_many(self, jobs, concurrency=None):
        return [self.run(job) for job in jobs]

    def close(self) -> None:
        pass


def _model_name(args) -> str:
    """The --model of the hf and vllm engines as the run records it, known before it is loaded: a
    folder with `~` expanded (as the hf loader does), a hub id or "tiny" as given."""
    return os.path.expanduser(args.model)


def _openai_engine(args):
    """(engine, served model name) for --engine openai: a client of a running server, which is
    asked for its model's name when --model is not given."""
    from rlvr.trainers.openai_engine import OpenAIEngine, OpenAIEngineError

    engine = OpenAIEngine(args.base_url, args.model, api_key=args.api_key, concurrency=args.concurrency,
                          timeout=args.timeout)
    # the server is asked now: say so, in case it is slow to answer
    if args.model is None:
        print(f"rlvr eval: waiting for the server at {engine.base_url} to name its model (GET /models, "
              f"{engine.models_timeout:g}s a try; --model NAME skips this)", file=sys.stderr, flush=True)
    else:
        print(f"rlvr eval: checking that the server at {engine.base_url} answers (GET /models, "
              f"{engine.models_timeout:g}s a try)", file=sys.stderr, flush=True)
    try:
        # with --model, else the first generation would wait --timeout on a hung server; without,
        # the listing tells whether the server's first model was one of several
        served = engine.check_server()
        name = engine.model
    except OpenAIEngineError as exc:
        engine.close()
        raise _EngineError(_cannot_use(args.base_url, exc)) from None
    if args.model is None:
        if served is not None and len(served) > 1:  # the default, the first, may not be the one meant
            print(f"rlvr eval: evaluating model {name!r} (the server lists {_listed(served)}); pass --model to choose",
                  file=sys.stderr, flush=True)
    elif served is not None and not _is_served(name, served):
        _probe_unlisted(engine, name, served)
    return engine, name


def _cannot_use(base_url: str, exc: Exception) -> str:
    """The refusal (exit 2) of a server that does not answer, or refuses us (401, 403)."""
    return (f"cannot use the server at {base_url}: {exc}; start one (e.g. `rlvr serve --model ...`) "
            f"or fix --base-url")


def _is_served(model: str, served: list[str]) -> bool:
    """Whether the server's model list names `model`. Ollama takes a name without a tag for its
    ":latest" one (it lists "llama3:latest" and serves "llama3"), and Gemini's OpenAI endpoint lists
    "models/gemini-2.0-flash" and serves "gemini-2.0-flash": both count as listed."""
    return model in served or f"{model}:latest" in served or f"models/{model}" in served


def _probe_unlisted(engine, model: str, served: list[str]) -> None:
    """Decide on a --model the server does not list, before --out is touched. A list is no proof:
    TGI and llama-server list one id and serve it under any name, Azure lists base models and
    serves deployment names. So the server is asked for one token of `model`: if it answers that
    the model does not exist, the run is refused (exit 2, naming the listed models), as every
    generation would be; if it answers, the run goes on (with a note). A server that stops
    answering, or refuses us (401, 403), is refused as at the /models check; any other refusal, or
    no answer in time (a model still loading), leaves it to the first generation, as without the
    probe."""
    from rlvr.trainers.openai_engine import (OpenAIEngineError, RequestRejectedError, ServerUnreachableError,
                                             model_not_found)

    print(f"rlvr eval: --model {model!r} is not among the models the server lists; asking it for one token of "
          f"that model (POST /chat/completions, {engine.models_timeout:g}s a try)", file=sys.stderr, flush=True)
    try:
        engine.probe_model()
    except RequestRejectedError as exc:
        if model_not_found(exc.status, exc.body) or exc.status in (401, 403):
            engine.close()
            raise _EngineError(_not_served(model, served, engine.base_url, exc) if model_not_found(exc.status, exc.body)
                               else _cannot_use(engine.base_url, exc)) from None
        print(f"rlvr eval: note: the server refused that request ({exc}); going on: the first generation will show "
              f"whether --model {model!r} is served", file=sys.stderr, flush=True)
        return
    except ServerUnreachableError as exc:
        engine.close()
        raise _EngineError(_cannot_use(engine.base_url, exc)) from None
    except OpenAIEngineError as exc:  # no answer in time (a model loading), or an odd one
        print(f"rlvr eval: note: no usable answer to that request within {engine.models_timeout:g}s "
              f"({type(exc).__name__}); going on", file=sys.stderr, flush=True)
        return
    print(f"rlvr eval: note: the server answered a request for --model {model!r}, though it lists only "
          f"{_listed(served)}; going on (servers such as TGI and llama-server serve their model under any name)",
          file=sys.stderr, flush=True)


def _listed(served: list[str]) -> str:
    """The first ten model names a server lists, for messages."""
    return ", ".join(repr(m) for m in served[:10]) + (f" and {len(served) - 10} more" if len(served) > 10 else "")


def _not_served(model: str, served: list[str], base_url: str, exc: Exception) -> str:
    """The refusal of a --model that the server at `base_url` neither lists nor serves (exit 2,
    before --out is touched): asked for it, the server answered that it does not exist (`exc`),
    so every generation would be refused and the run would only fail later."""
    return (f"--model {model!r} is not served by the server at {base_url}: its GET /models lists {_listed(served)}, "
            f"and a request for {model!r} was refused ({exc}); pass one of them as --model (or leave --model out to "
            f"use the first)")


def _local_engine(args):
    """(engine, tokenizer) for --engine hf or vllm: the model is loaded (the costly step)."""
    if args.engine == "hf":
        from rlvr.commands.serve import ModelLoadError, load_hf_chat_engine

        try:
            engine, _ = load_hf_chat_engine(args.model, args.device, args.dtype)
        except ModelLoadError as exc:
            raise _EngineError(str(exc)) from None
        return engine, engine.tokenizer
    from transformers import AutoTokenizer

    from rlvr.trainers.vllm_engine import VLLMEngine, VLLMUnavailableError

    try:
        engine = VLLMEngine(args.model, dtype=args.dtype, enable_sleep_mode=False, gpu_memory_utilization=0.85,
                            seed=args.seed or 0, weight_sync=False)  # evaluation never loads new weights
    except VLLMUnavailableError as exc:  # not installed (or broken): say how to install it, exit 2
        raise _EngineError(str(exc)) from None
    return engine, AutoTokenizer.from_pretrained(args.model)


class _EngineError(RuntimeError):
    """The engine could not be built or reached (message says why)."""


class _MidRunError(RuntimeError):
    """A KeyError or ValueError (its cause) raised while sampling that is none of the input's
    errors (`_is_input_error`): a fault, not bad input, so not exit 2; samples may be saved."""


def _is_input_error(exc: BaseException) -> bool:
    """Whether ``exc``, raised once sampling began, is still about the input (exit 2): the folder's
    run not matching (an older layout), --out not writable, the data, the completions file."""
    from rlvr.benchmarks.completions import CompletionsError
    from rlvr.benchmarks.evaluate import OutDirError, RunMismatchError
    from rlvr.envs.tasks import DatasetError

    return isinstance(exc, (CompletionsError, OutDirError, RunMismatchError, DatasetError))


def _unexpected(exc: _MidRunError, out: str) -> int:
    """An unexpected error while sampling (`_MidRunError`): its traceback, what is saved, and 1
    (Python's status for an uncaught error), never 2, which says that nothing was scored."""
    import traceback

    from rlvr.benchmarks.evaluate import saved_samples

    cause = exc.__cause__ or exc
    traceback.print_exception(type(cause), cause, cause.__traceback__, file=sys.stderr)
    saved = saved_samples(out)
    print(f"rlvr eval: unexpected error while sampling (not bad input; the traceback above says where): "
          f"{type(cause).__name__}: {cause}; {saved} sample(s) are saved in {out}"
          + (": rerun the same command with the same --out to continue" if saved else ""), file=sys.stderr)
    return 1


def _is_engine_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the engine failing, not the input: an :class:`EngineError` (a server that
    cannot be used, an aborted generation) or CUDA running out of memory."""
    from rlvr.trainers.engine import EngineError

    torch = sys.modules.get("torch")  # loaded whenever a GPU could have run out of memory
    oom = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    return isinstance(exc, EngineError) or (oom is not None and isinstance(exc, oom))


def _engine_failed(exc: Exception, out: str) -> int:
    """The engine or server failed while sampling: say why, and how the run goes on. Once the folder
    holds samples its run is fixed: the same command resumes it, other sampling settings need
    another --out; before the first sample nothing binds the folder."""
    from rlvr.benchmarks.identity import has_samples

    if has_samples(out):
        advice = (f"The samples finished so far are saved in {out}; fix the cause (the server, the engine) and rerun "
                  f"the same command with the same --out to resume. Changing --max-tokens, --model or another "
                  f"sampling setting needs a new --out: the saved samples were drawn with these.")
    else:
        advice = (f"No sample was finished, so {out} holds none and is not bound to these settings: fix the cause "
                  f"(the server, --max-tokens, --model...) and rerun the same command, changed as the fix needs; the "
                  f"same --out is fine.")
    print(f"rlvr eval: the engine failed while sampling: {type(exc).__name__}: {exc}\n{advice}", file=sys.stderr)
    return EXIT_ENGINE_FAILED


def _engine_options_with_completions(given: dict) -> str:
    """Why engine-only options are refused with --completions: they would change nothing."""
    one = len(given) == 1
    they, them = ("it", "it") if one else ("they", "them")
    return (f"{', '.join(given)} only {'applies' if one else 'apply'} when sampling with --engine; --completions scores "
            f"completions generated elsewhere, so {they} would be ignored: drop {them}, or sample with --engine")


def _options_of_other_engines(engine: str, given: dict) -> str | None:
    """Why options that only other engines use are refused with ``--engine engine`` (they would
    change nothing), or None when there are none."""
    owners: dict[tuple[str, ...], list[str]] = {}  # the engines using them -> the misplaced options
    for option, engines in given.items():
        if engines is not None and engine not in engines:
            owners.setdefault(engines, []).append(option)
    if not owners:
        return None
    named = " and ".join(f"{', '.join(options)} (only {' and '.join(engines)} use{'s' if len(engines) == 1 else ''} "
                         f"{'it' if len(options) == 1 else 'them'})" for engines, options in owners.items())
    one = sum(len(options) for options in owners.values()) == 1
    fix = f"--engine {' or '.join(next(iter(owners)))}" if len(owners) == 1 else "the engine each belongs to"
    return (f"--engine {engine} does not use {named}, so {'it' if one else 'they'} would be ignored: drop "
            f"{'it' if one else 'them'}, or sample with {fix}")


def _temperature(args) -> float:
    """--temperature, else 0.6 when sampling several completions per problem and 0 (greedy) for one."""
    return args.temperature if args.temperature is not None else (0.6 if args.n > 1 else 0.0)


def _default_temperature_note(exc: Exception, args) -> str:
    """What to add to the refusal of a folder whose samples were drawn at another temperature
    (`exc`, a RunMismatchError) when this run's temperature is --n's default, not one the user
    gave: growing --n from 1 changes that default, and the plain refusal would name a setting the
    user never set. The advice to pass the folder's temperature is given only when the temperature
    is the one setting that differs (else following it is refused again, for the others); "" when
    the folder's samples were drawn at no temperature (a --completions run: no --temperature can
    match it) or the user gave one (the refusal itself stays: greedy and sampled draws must not mix).
    Greedy samples (the folder's at 0) are never advised to be grown: --n > 1 at temperature 0 is refused."""
    changed = getattr(exc, "changed", {})
    recorded, now = changed.get("temperature", (None, None))
    if args.temperature is not None or recorded is None:
        return ""
    default = f"No --temperature was given, so this run took the default for --n {args.n}, {now}"
    if set(changed) != {"temperature"}:  # other settings differ too: --temperature alone does not help
        return f". ({default}: the temperature differs for that reason)"
    said = f". {default} (the default is 0, greedy, for --n 1 and 0.6 for --n > 1); the folder's samples were drawn at {recorded}"
    if recorded == 0:  # --temperature 0 with this --n > 1 is refused (`greedy_samples_problem`): not advised
        return (f"{said}, greedily: more samples at temperature 0 would repeat their answers. Use a new --out to "
                f"sample --n {args.n} at {now} (or --temperature > 0 of your choice)")
    return f"{said}. Pass --temperature {recorded} to add samples drawn as those were, or use a new --out to sample at {now}"


#: The options of the SamplingParams fields, to name them in its errors.
_SAMPLING_OPTIONS = {"temperature": "--temperature", "top_p": "--top-p", "max_new_tokens": "--max-tokens"}


def _sampling_problem(args) -> str | None:
    """What is wrong with --temperature, --top-p or --max-tokens (the engines' own check), or None."""
    from rlvr.trainers.engine import SamplingParams

    try:
        SamplingParams(temperature=_temperature(args), top_p=args.top_p, max_new_tokens=args.max_tokens)
    except ValueError as exc:
        field, _, rest = str(exc).partition(" ")
        return f"{_SAMPLING_OPTIONS.get(field, field)} {rest}"
    if args.engine == "vllm":  # (what vLLM would refuse or change, known before it loads the model)
        from rlvr.trainers.vllm_engine import check_vllm_temperature

        try:
            check_vllm_temperature(_temperature(args))
        except ValueError as exc:
            return f"--{exc}"
    return None


def _unused_sandbox(args) -> str | None:
    """Why --sandbox (not auto) would go unused by the benchmark's env, which takes none, or None:
    known before `_sandbox` starts the backend (and warns when it cannot) and before --out is created.
    An unknown benchmark is left to the run, which names it."""
    from rlvr.benchmarks.registry import unused_sandbox

    if args.sandbox == "auto":
        return None
    try:
        return unused_sandbox(args.benchmark)
    except KeyError:
        return None


def _sandbox_option_problem(args) -> str | None:
    """What is wrong with --sandbox-python / --sandbox-image, or None: each belongs to the backends
    that take it, named with --sandbox (with auto the backend is not known in advance), and the
    interpreter must exist, so a typo fails here rather than leaving every sample unverified."""
    if args.sandbox_python is not None:
        if args.sandbox not in ("bwrap", "subprocess"):
            return (f"--sandbox-python is for --sandbox bwrap or subprocess, not {args.sandbox}"
                    + (" (use --sandbox-image for docker)" if args.sandbox == "docker" else ": name the backend"))
        path = os.path.expanduser(args.sandbox_python)
        found = path if os.sep in path else shutil.which(path)
        if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
            return f"--sandbox-python {args.sandbox_python!r} is not an executable file"
        args.sandbox_python = os.path.abspath(found)
    if args.sandbox_image is not None and args.sandbox != "docker":
        return (f"--sandbox-image is for --sandbox docker, not {args.sandbox}"
                + (" (use --sandbox-python for bwrap and subprocess)" if args.sandbox != "auto" else ": name the backend"))
    return None


def _check_args(args) -> str | None:
    """What is wrong with the options and --out, or None; checked before anything is loaded or
    written (--out is created)."""
    from rlvr.benchmarks.evaluate import check_out_dir, greedy_samples_problem, seed_problem

    if (args.completions is None) == (args.engine is None):
        return "give either --completions FILE.jsonl (score saved completions) or --engine hf|vllm|openai (sample them)"
    if args.completions is not None and args.engine_options:
        return _engine_options_with_completions(args.engine_options)
    misplaced = _options_of_other_engines(args.engine, args.engine_options) if args.engine else None
    if misplaced:
        return misplaced
    if args.engine in ("hf", "vllm") and not args.model:
        return f"--engine {args.engine} needs --model (a save_pretrained folder or hub id)"
    if args.engine == "hf":
        from rlvr.commands.serve import check_hf_device

        try:
            check_hf_device(args.device)
        except ValueError as exc:
            return str(exc)
    if args.limit is not None and args.limit < 1:
        return f"--limit must be >= 1, got {args.limit}"
    if args.n < 1:
        return f"--n must be >= 1 (samples per problem), got {args.n}"
    if args.engine == "openai" and args.concurrency < 1:
        return f"--concurrency must be >= 1 (requests in flight), got {args.concurrency}"
    if args.max_chars is not None and args.max_chars < 1:
        return f"--max-chars must be >= 1, got {args.max_chars}; leave it out for no cap"
    if args.max_tokens < 1:
        return f"--max-tokens must be >= 1, got {args.max_tokens}"
    if args.max_turns is not None and args.max_turns < 1:
        return f"--max-turns must be >= 1, got {args.max_turns}; leave it out for the env's own limit"
    if args.engine and seed_problem(args.seed):  # (the seeds derived from it: `prepare_engine_run`)
        return seed_problem(args.seed)
    problem = ((_sampling_problem(args) or greedy_samples_problem(args.n, _temperature(args)) if args.engine else None)
               or _sandbox_option_problem(args) or _unused_sandbox(args))
    if problem:
        return problem
    try:
        check_out_dir(args.out)
    except ValueError as exc:
        return str(exc)
    return _training_run_problem(args.out)


def _training_run_problem(out: str) -> str | None:
    """Why --out cannot hold this evaluation because a training run (rlvr train, rlvr demo) is
    there, or None: the evaluation's summary.json would replace the run's."""
    from pathlib import Path

    from rlvr.trainers.runs import training_run_files

    found = training_run_files(Path(out)) if os.path.isdir(out) else []
    if not found:
        return None
    return (f"--out {out!r} holds a training run ({', '.join(found)}), written by rlvr train or rlvr demo; an "
            f"evaluation writes its own summary.json there, which would replace the run's: give another --out "
            f"(e.g. {out.rstrip(os.sep) + '-eval'!r})")


def _evaluate_with_engine(args, common: dict) -> int:
    """Sample with --engine; the exit status. What a run can be refused for (the benchmark and its
    data, the sampling options, a folder holding another run) is checked before a local model is
    loaded. The openai engine, a client of a running server, is built first: the server names the
    model that the folder's run is checked against."""
    from rlvr.benchmarks.evaluate import RunMismatchError, prepare_engine_run, run_engine

    client, model_name = _openai_engine(args) if args.engine == "openai" else (None, _model_name(args))
    engine = client
    try:
        try:
            run = prepare_engine_run(args.benchmark, args.out, engine_name=args.engine, model_name=model_name,
                                     base_url=client.base_url if client is not None else None, n=args.n,
                                     temperature=_temperature(args), top_p=args.top_p, max_tokens=args.max_tokens,
                                     seed=args.seed, system_prompt=args.system_prompt, max_turns=args.max_turns,
                                     dtype=None if client is not None else args.dtype, **common)
        except RunMismatchError as exc:
            note = _default_temperature_note(exc, args)
            if not note:
                raise
            raise RunMismatchError(str(exc) + note, exc.changed) from None
        engine, tokenizer = (client, None) if client is not None else _local_engine(args)
        try:
            return run_engine(run, engine, tokenizer).exit_code
        except Exception as exc:  # the engine failed mid-run: finished calls are saved
            if _is_engine_failure(exc):
                return _engine_failed(exc, args.out)
            if isinstance(exc, (KeyError, ValueError)) and not _is_input_error(exc):
                raise _MidRunError(exc) from exc  # not "bad input, nothing scored" (exit 2): see `run`
            raise
    finally:
        if engine is not None:
            engine.close()


def _interrupted(out: str) -> int:
    """Ctrl-C once --out exists: say how many samples are saved there and how to go on; 130. The rows
    are only counted (`saved_samples`, which changes nothing in the folder): this run may never have
    taken the folder's lock, and another run holding it may be writing there (`ResultStore` would
    tidy the folder under its feet); its samples are not called this run's."""
    from rlvr.benchmarks.evaluate import locked_elsewhere, saved_samples

    if locked_elsewhere(out):
        print(f"rlvr eval: interrupted; another run is using {out} (it holds the folder's lock), so nothing of this "
              f"one was saved there", file=sys.stderr)
        return 130
    saved = saved_samples(out)
    if saved:
        print(f"rlvr eval: interrupted; {saved} sample(s) are saved in {out}: rerun the same command with the same "
              f"--out to continue (the saved ones are not redone)", file=sys.stderr)
    else:
        print(f"rlvr eval: interrupted before any sample was saved in {out}; rerun the same command to start again",
              file=sys.stderr)
    return 130


def _no_room(exc: OSError, out: str) -> int:
    """A write refused for want of room (a full disk, a quota) where no clearer message was given:
    say so, not a traceback; 2. What was appended to samples.jsonl before is kept."""
    print(f"rlvr eval: no room left to write {exc.filename or out} ({exc.strerror or exc}); the samples scored so "
          f"far are kept in {out}: make room and rerun the same command to continue", file=sys.stderr)
    return 2


def run(args) -> int:
    from rlvr.benchmarks.completions import CompletionsError
    from rlvr.benchmarks.estimators import parse_ks
    from rlvr.benchmarks.evaluate import NO_ROOM, RunMismatchError, evaluate_completions
    from rlvr.envs.tasks import DatasetError

    args.out = os.path.expanduser(args.out)  # `--out=~/x` (no shell expands it after '=') is the home folder's
    problem = _check_args(args)
    if problem:
        return _fail(problem)
    try:
        ks = parse_ks(args.k) if args.k else _default_ks(args.n if args.engine else 1)
    except ValueError as exc:
        return _fail(str(exc))
    if args.engine and max(ks) > args.n:
        return _fail(f"--k {max(ks)} is more than --n {args.n}: pass@k needs at least k samples per problem")
    try:
        sandbox = _sandbox(args.sandbox, args.sandbox_python, args.sandbox_image)
    except _SandboxChoiceError as exc:
        return _fail(str(exc))
    common = dict(ks=ks, data=args.data, limit=args.limit, sandbox=sandbox, ci_method=args.ci, progress=not args.no_progress,
                  max_chars=args.max_chars)
    try:
        if args.completions is not None:
            return evaluate_completions(args.benchmark, args.completions, args.out, **common).exit_code
        return _evaluate_with_engine(args, common)
    except KeyboardInterrupt:
        return _interrupted(args.out)
    except _MidRunError as exc:
        return _unexpected(exc, args.out)
    except OSError as exc:
        if exc.errno not in NO_ROOM:
            raise
        return _no_room(exc, args.out)
    except (CompletionsError, RunMismatchError, DatasetError, KeyError, ValueError, _EngineError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return _fail(message)
    finally:
        if sandbox is not None:
            sandbox.close()
