"""What a results folder's samples were made with (`run.json`), and the check that a rerun in the
same folder is the same run, so that resuming never mixes samples of different runs.

The identity names everything a sample depends on, by content rather than by name:

- the benchmark and its mapping version, and the data's content (`data_identity`): the file or
  folder SHA-256 (a `save_to_disk` folder included), or the hub id, config, split, revision and
  content fingerprint, or a procedural generator's settings;
- the env that asks and scores (`env_identity`): env id and version, its settings (prompt format,
  reward weights...) and the verifier with its settings;
- with an engine, the model (`model_identity`: a local folder by absolute path plus a signature of
  its files, so a checkpoint overwritten in place is another model; a served model by its name),
  dtype, sampling settings, seed, system prompt, max turns and the number of problems (the
  seeds are `seed + j * N + t`).

`run.json` is written before the first sample, so `samples.jsonl` without a readable `run.json`
means the folder's settings are unknown: such a folder is refused, never silently reused. It binds
the folder only once `samples.jsonl` holds a row: a run that stopped before its first sample (a
server rejecting every request) left nothing to mix, so its `run.json` is replaced.
`skipped.json` lists the problems a sampling run skipped because their prompt does not fit the
model's context (task id -> reason), with the digest of the run.json it was found under: whether a
prompt fits depends on nothing but that identity (the data, the env's prompt, the model, the
sampling settings), so a rerun in the folder skips them again without asking the engine, and a
record made under another identity (a folder without samples is rebound) is ignored (`read_skipped`).
A served model is known by name only: after raising the server's context, delete skipped.json to
have them sampled.
A `run.json` written before this identity existed (no `format` key) is checked on the fields it
has, the old way, and then rewritten in the current format.

Two settings are compared for what they mean rather than as written:

- `prompt_layout` (`rlvr.trainers.opening_prompt.PROMPT_LAYOUT`), recorded for an env with a system
  message: raw-text prompts (no chat template) once left that message out, and now open with it.
  A folder recorded without it keeps its samples only where the prompts did not change: sampled
  through a chat template (`check_prompt_layout`, once the engine's mode is known). Its run.json
  stays without it, so the check holds for every later rerun too.
- `max_turns` on a single-turn env: every value (None, 1, 2...) meant one turn, as older `rlvr
  eval`s accepted any; they compare equal there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sys
from typing import Any, Callable, Mapping, TextIO

RUN = "run.json"
SAMPLES = "samples.jsonl"
#: Problems an engine run skipped because their prompt does not fit the model's context.
SKIPPED = "skipped.json"

#: Version of run.json's layout; a run.json without it was written by an older `rlvr eval`.
FORMAT = 2

#: What the older run.json compared (values: the data's SHA-256 or path, the --model string).
_LEGACY_KEYS = ("benchmark", "benchmark_version", "mode", "engine", "model", "temperature", "top_p", "max_tokens",
                "seed", "system_prompt", "data", "max_chars")

#: Data fingerprint keys that say where the data lies or how `datasets` named this load, not what
#: it holds (dropped when a SHA-256 of the content is known: a moved copy is the same data).
_LOCATION_KEYS = ("source", "files", "content_fingerprint")

#: Env settings recorded elsewhere in the identity (max_chars, system_prompt).
_ENV_SETTINGS_SKIPPED = ("max_action_chars", "system_prompt")

#: Settings that say where code runs, not how it is judged: the sandbox may change between runs
#: (the fix for an outage is often another backend) without changing any verdict.
_SANDBOX_KEYS = ("sandbox", "sandbox_backend")


class RunMismatchError(ValueError):
    """The output folder holds a run made with other settings, or with settings it cannot tell.
    `changed` maps each setting that differs to (recorded value, this run's value), so a caller
    can say more about one it chose a default for (`rlvr eval`'s --temperature); {} when the
    settings cannot be told."""

    def __init__(self, message: str, changed: Mapping[str, tuple[Any, Any]] | None = None) -> None:
        super().__init__(message)
        self.changed: dict[str, tuple[Any, Any]] = dict(changed or {})


def canonical(value: Any) -> Any:
    """`value` as it reads back from JSON (tuples become lists, keys strings), so that an identity
    computed now compares equal to the same identity loaded from run.json."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def digest(value: Any) -> str:
    """A short SHA-256 of `value`'s canonical JSON."""
    return hashlib.sha256(json.dumps(canonical(value), sort_keys=True).encode()).hexdigest()[:16]


# ------------------------------------------------------------------ the parts


def data_identity(fingerprint: Mapping[str, Any]) -> dict[str, Any]:
    """The content part of a data fingerprint: with a SHA-256 of the bytes, that hash (and the row
    counts); otherwise everything known (hub id, config, split, revision, content fingerprint, a
    generator's settings)."""
    fp = canonical(dict(fingerprint))
    if fp.get("sha256"):
        return {k: v for k, v in fp.items() if k not in _LOCATION_KEYS}
    return fp


def env_identity(env_fingerprint: Mapping[str, Any]) -> dict[str, Any]:
    """The env's part: id, version and settings (prompt format, reward weights...); the data it
    holds is `data_identity`'s business, and neither the package version nor the sandbox is part
    of it."""
    settings = {k: v for k, v in dict(env_fingerprint.get("settings") or {}).items() if k not in _ENV_SETTINGS_SKIPPED}
    return _without_sandbox(canonical({"env_id": env_fingerprint.get("env_id"),
                                       "env_version": env_fingerprint.get("env_version"), "settings": settings}))


def verifier_identity(env_fingerprint: Mapping[str, Any]) -> Any:
    """The verifier and its settings (timeouts...), without the sandbox it runs code in."""
    return _without_sandbox(canonical(env_fingerprint.get("verifier")))


def _without_sandbox(value: Any) -> Any:
    """`value` with every `_SANDBOX_KEYS` entry of its dicts removed, at any depth."""
    if isinstance(value, dict):
        return {k: _without_sandbox(v) for k, v in value.items() if k not in _SANDBOX_KEYS}
    if isinstance(value, list):
        return [_without_sandbox(v) for v in value]
    return value


def sandbox_label(env: Any) -> str | None:
    """What runs `env`'s model code, as each sample row records it (`sandbox`): the backend with
    its interpreter or image, e.g. "subprocess (/usr/bin/python3.11)", "docker (rlvr-sandbox:latest)",
    "unavailable" (a backend that could not start); None for an env that runs no code in a sandbox
    (its fingerprint names no `sandbox_backend`). The sandbox is not part of the identity (a rerun
    may use another), so the rows are where a verdict's sandbox is known: the summary counts them
    (`judged_by`) rather than naming the sandbox of whichever run wrote it last."""
    names = sandbox_names(env.fingerprint().to_dict())
    if not names:
        return None
    get = getattr(env, "_get_sandbox", None)  # Code-v0, ToolMath-v0: the sandbox object, with its python or image
    if not callable(get):  # (a registered env's code verifier holds its sandbox: its backend is what is known)
        return names[0]
    try:
        sandbox = get()
    except Exception:  # noqa: BLE001 - its samples are then unverified, their errors say why
        return f"{names[0]} (could not start)"
    name = str(getattr(sandbox, "name", type(sandbox).__name__))
    detail = getattr(sandbox, "python", None) or getattr(sandbox, "image", None)
    return f"{name} ({detail})" if detail else name


def sandbox_names(value: Any) -> list[str]:
    """The `sandbox_backend` values found in `value` (a fingerprint) at any depth, each once."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "sandbox_backend" and isinstance(item, str):
                found.append(item)
            else:
                found += sandbox_names(item)
    elif isinstance(value, list):
        for item in value:
            found += sandbox_names(item)
    return list(dict.fromkeys(found))


def model_identity(model: str, *, served: bool = False) -> dict[str, Any]:
    """What identifies `model`: a local folder by absolute path plus `folder_signature`; a served
    model (`served`: the openai engine, where the server's name for it is all that is known) or
    anything else (a hub id, "tiny") by name. A server's URL is where it runs, not what it runs: a
    server restarted on another port resumes the run."""
    if served:
        return {"name": model}
    path = os.path.expanduser(model)
    if os.path.isdir(path):
        return {"path": os.path.abspath(path), **folder_signature(path)}
    return {"name": model}


def folder_signature(path: str) -> dict[str, str]:
    """A cheap signature of a model folder: the SHA-256 of `config.json` and a digest of every file's
    name, size and modification time (weights are not read: a checkpoint written again in place has
    new modification times). A copy that does not keep the times (`cp` without `-p`) is another
    model to this check."""
    files = []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if name.startswith(".") or not os.path.isfile(full):
            continue
        stat = os.stat(full)
        files.append([name, stat.st_size, stat.st_mtime_ns])
    config = os.path.join(path, "config.json")
    config_sha = None
    if os.path.isfile(config):
        with open(config, "rb") as handle:
            config_sha = hashlib.sha256(handle.read()).hexdigest()[:16]
    return {"config_sha256": config_sha, "files": digest(files)}


# ------------------------------------------------------------------ the check


def prompt_layout_identity(env: Any) -> dict[str, Any]:
    """The identity's `prompt_layout` entry for `env`: `{"prompt_layout": PROMPT_LAYOUT}` when it opens
    its episodes with a system message (raw-text prompts changed with it), else {} (they did not)."""
    from rlvr.trainers.opening_prompt import PROMPT_LAYOUT, raw_system_text

    return {"prompt_layout": PROMPT_LAYOUT} if raw_system_text(env) else {}


def check_prompt_layout(out_dir: str, env: Any, raw_text: bool) -> None:
    """Refuse to add samples to `out_dir` when its samples were drawn with raw-text prompts of the
    old layout (its run.json, checked by `check_run`, has no `prompt_layout`) and this run's prompts
    are raw text too (`raw_text`: a token-level engine without a chat template) with the system
    message `env` opens with, which the old prompts left out. Chat-template prompts, and envs
    without a system message, are as they were."""
    from rlvr.trainers.opening_prompt import raw_system_text

    system = raw_system_text(env)
    if not raw_text or not system or not has_samples(out_dir) or "prompt_layout" in _read_run(out_dir):
        return
    raise RunMismatchError(
        f"{out_dir} holds samples drawn by an older rlvr eval, whose raw-text prompts (no chat template) left out the "
        f"env's system message ({_short(system)}); this run's prompts open with it, so its samples cannot be mixed "
        f"with those. Use another --out folder, or delete {out_dir} to start over")


def check_run(out_dir: str, identity: Mapping[str, Any], legacy: Mapping[str, Any], *,
              single_turn: bool = False) -> None:
    """Refuse `out_dir` if it holds samples made with another identity, else record `identity`.
    A run.json without samples beside it (a run that stopped before its first) binds nothing and
    is replaced.

    `legacy` is the identity as the older run.json recorded it (checked against a run.json that
    has no `format`). `single_turn`: the env ends every episode after one turn, so any
    `max_turns` means one. A run.json without the identity's `prompt_layout` is no mismatch by
    itself (see the module's notes and `check_prompt_layout`), and stays without it. Raises
    RunMismatchError naming what differs, or saying that samples.jsonl exists without a readable
    run.json."""
    identity = canonical({"format": FORMAT, **identity})
    path = os.path.join(out_dir, RUN)
    before = _read_run(out_dir) if has_samples(out_dir) else None  # no sample yet: nothing to mix, rewritten
    if before is not None:
        if "prompt_layout" not in before:  # samples of the old layout: `check_prompt_layout` decides
            identity.pop("prompt_layout", None)
        compared = dict(before)
        if single_turn and "max_turns" in compared:
            compared["max_turns"] = identity.get("max_turns")
        if "format" in before:
            keys, now = sorted(set(before) | set(identity)), identity
        else:
            compared, now = before, canonical(dict(legacy))
            keys = [k for k in _LEGACY_KEYS if k in before]
        diffs = _diffs(compared, now, keys)
        if diffs:
            raise RunMismatchError(
                f"{out_dir} holds a run made with other settings ({'; '.join(diffs)}); its samples cannot be "
                f"mixed with this run's. Use another --out folder, or delete {out_dir} to start over",
                {k: (compared.get(k), now.get(k)) for k in keys if compared.get(k) != now.get(k)})
        if "format" not in before:
            print(f"rlvr eval: note: {path} was written by an older rlvr eval that recorded fewer settings; it "
                  f"matches on those ({', '.join(k for k in _LEGACY_KEYS if k in before)}) and now records the data "
                  f"content, env, verifier and model signature too", file=sys.stderr)
    try:  # (`check_out_dir` checked it can be: it is made when first written)
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:  # e.g. a permission check that passed for a folder the file system refuses
        from rlvr.benchmarks.evaluate import OutDirError

        raise OutDirError(f"--out {out_dir!r} cannot hold the results ({exc.strerror or exc}); give a folder you "
                          "can write to") from None
    write_json(path, identity)


def has_samples(out_dir: str) -> bool:
    """Whether `out_dir`'s samples.jsonl holds anything but whitespace: a sample (or the start of
    one) that run.json's settings made. Read only until the first such byte."""
    path = os.path.join(out_dir, SAMPLES)
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 16):
            if chunk.strip():
                return True
    return False


def _read_run(out_dir: str) -> dict[str, Any]:
    """run.json's content, for a folder that holds samples. A missing or unreadable run.json is
    refused: the settings those samples were made with are unknown."""
    path = os.path.join(out_dir, RUN)
    problem = None
    if not os.path.exists(path):
        problem = "is missing"
    else:
        try:
            with open(path, encoding="utf-8") as handle:
                before = json.load(handle)
            if isinstance(before, dict):
                return before
            problem = "does not hold a JSON object"
        except (OSError, ValueError) as exc:
            problem = f"cannot be read ({type(exc).__name__}: {str(exc)[:100]})"
    raise RunMismatchError(
        f"{out_dir} holds {SAMPLES} but its {RUN} {problem}, so the settings those samples were made with are "
        f"unknown and a rerun could mix runs. Use another --out folder, or delete {out_dir} (or at least its "
        f"{SAMPLES}) to start afresh"
    )


def _diffs(before: Mapping[str, Any], now: Mapping[str, Any], keys: list[str], prefix: str = "") -> list[str]:
    """'key: old -> new' for each differing key; nested dicts name the differing sub-keys
    ('model.files: ...')."""
    out: list[str] = []
    for key in keys:
        old, new = before.get(key), now.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            out += _diffs(old, new, sorted(set(old) | set(new)), f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}: {_short(old)} -> {_short(new)}")
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _run_digest(out_dir: str) -> str | None:
    try:
        with open(os.path.join(out_dir, RUN), encoding="utf-8") as handle:
            return digest(json.load(handle))
    except (OSError, ValueError):
        return None


def read_skipped(out_dir: str) -> dict[str, str]:
    """The problems skipped for an over-long prompt under `out_dir`'s current run.json (task id ->
    reason); {} when there is no record, it cannot be read, or it was made under another run.json."""
    try:
        with open(os.path.join(out_dir, SKIPPED), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return {}
    run = _run_digest(out_dir)
    if not isinstance(record, dict) or run is None or record.get("run") != run or not isinstance(record.get("problems"), dict):
        return {}
    return {str(t): str(r) for t, r in record["problems"].items()}


def write_skipped(out_dir: str, skipped: Mapping[str, str]) -> None:
    """Record `skipped` (task id -> reason) for the folder's current run.json; an empty one removes
    the record."""
    path = os.path.join(out_dir, SKIPPED)
    if not skipped:
        if os.path.exists(path):
            os.remove(path)
        return
    write_json(path, {"run": _run_digest(out_dir), "problems": dict(skipped)})


def write_json(path: str, data: Any) -> None:
    """Write `data` as JSON to `path` atomically (`atomic_write`)."""
    def write(handle: TextIO) -> None:
        json.dump(data, handle, indent=2, ensure_ascii=False, default=str)
        handle.write("\n")

    atomic_write(path, write)


def temp_name(path: str) -> str:
    """A new name for `atomic_write`'s temporary file for `path`: `<path>.rlvr-<16 hex digits>.tmp`, a
    name no user file is likely to have (`rlvr.benchmarks.evaluate` removes leftovers by it)."""
    return f"{path}.rlvr-{secrets.token_hex(8)}.tmp"


def atomic_write(path: str, write: Callable[[TextIO], Any], like: str | None = None) -> None:
    """Replace the file at `path` with what `write` writes to the (UTF-8 text) handle it is given,
    atomically: a temporary file in the same folder (`temp_name`), synced to disk, then renamed over
    it, so a kill leaves either the old file or the new one whole; on any error the temporary file
    is removed. The new file gets the old one's permissions, or for a new one those of `like`
    (samples.jsonl for its side file: completions kept private stay private aside too), else those
    `open` would give it (0o666 less the umask: `tempfile.mkstemp` would make it 0600, unreadable to
    the rest of a team)."""
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # (the umask applies)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            mode = next((m for m in map(_mode, (path, like)) if m is not None), None)
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _mode(path: str | None) -> int | None:
    """The permission bits of the file at `path`; None when there is none."""
    try:
        return os.stat(path).st_mode & 0o777 if path is not None else None
    except FileNotFoundError:
        return None
