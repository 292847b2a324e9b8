"""Resume across the fingerprint's sandbox details, review 33.

Code-v0, code-verifier envs and ToolMath-v0 (with the built-in python tool) now record, beside
``sandbox_backend``, a ``sandbox`` entry: the sandbox's default limits and its interpreter or
image. A checkpoint made before that had no such entry, and a resume compared the whole record:
the entry it lacked was taken for changed data and the resume was refused, telling the user to
"restore the original data" they never changed. Now an entry the old record lacks is more detail
of the same setup; a change of it between two records that both have it is still refused, and the
refusal names the key that changed and says that an upgrade can record more detail.
"""

from __future__ import annotations

import copy
import json

import pytest
import torch

from rlvr.trainers.checkpoint import latest_checkpoint
from rlvr.trainers.config import load_config
from rlvr.trainers.resume import fingerprint_changes as _fingerprint_changes
from rlvr.trainers.trainer import ResumeError, Trainer

LIMITS = {"timeout": 10.0, "cpu_time": None, "memory_mb": 512, "max_processes": 32, "max_output_bytes": 1000000,
          "max_file_mb": 16, "max_files": 16384}
SANDBOX = {"limits": LIMITS, "python": "/usr/bin/python3"}


def code_record(**settings):
    """A Code-v0 fingerprint record, as rlvr writes it (the sandbox is in the verifier's settings)."""
    return {"env_id": "rlvr/Code-v0", "rlvr_version": "0.1.0",
            "verifier": {"name": "code", "settings": {"sandbox_backend": "bwrap", **settings, "timeout": 10.0, "rules": 12}},
            "data": {"source": "in-memory", "sha256": "ab" * 32, "num_tasks": 1},
            "settings": {"max_turns": 1, "reward_weights": {"outcome": 1.0, "format": 0.0}}}


def toolmath_record(**settings):
    """A ToolMath-v0 fingerprint record (the sandbox is in the env's settings)."""
    return {"env_id": "ToolMathEnv", "rlvr_version": "0.1.0", "verifier": {"name": "math", "settings": {"rules": 28}},
            "settings": {"tools": ["calculator", "python"], "tool_timeout": 10.0, "sandbox_backend": "bwrap",
                         **settings, "max_turns": 4}}


@pytest.mark.parametrize("record", [code_record, toolmath_record])
def test_a_sandbox_entry_the_old_record_lacks_is_not_a_change(record):
    assert _fingerprint_changes(record(), record(sandbox=SANDBOX)) == {}


@pytest.mark.parametrize("record, where", [(code_record, "verifier.settings"), (toolmath_record, "settings")])
def test_a_changed_sandbox_entry_is_a_change_named_by_its_key(record, where):
    small = {**SANDBOX, "limits": {**LIMITS, "memory_mb": 64}}
    assert _fingerprint_changes(record(sandbox=SANDBOX), record(sandbox=small)) == {
        f"{where}.sandbox.limits.memory_mb": (512, 64)}
    # the interpreter reached by another path (default_python() falling back to sys.executable) is
    # still a change: it is named, so the user can tell it is the same interpreter
    other = {**SANDBOX, "python": "/venv/bin/python"}
    assert _fingerprint_changes(record(sandbox=SANDBOX), record(sandbox=other)) == {
        f"{where}.sandbox.python": ("/usr/bin/python3", "/venv/bin/python")}
    # one the new record lacks is a change (the old setup cannot be shown to be the same)
    assert list(_fingerprint_changes(record(sandbox=SANDBOX), record())) == [f"{where}.sandbox"]
    # and an added entry still goes with other changes, which stay changes
    changed = record(sandbox=SANDBOX)
    changed["verifier"]["settings"]["rules"] += 1
    assert list(_fingerprint_changes(record(), changed)) == ["verifier.settings.rules"]


def test_only_a_sandbox_entry_beside_sandbox_backend_is_forgiven():
    old = {"settings": {"tools": ["python"]}}
    new = {"settings": {"tools": ["python"], "sandbox": SANDBOX}}
    assert list(_fingerprint_changes(old, new)) == ["settings.sandbox"]
    old = {"settings": {"sandbox_backend": "bwrap"}}
    new = {"settings": {"sandbox_backend": "docker", "sandbox": {"image": "rlvr-sandbox:latest"}}}
    assert _fingerprint_changes(old, new) == {"settings.sandbox_backend": ("bwrap", "docker")}


def test_data_location_and_other_keys_as_before():
    old, new = code_record(), code_record()
    old["data"]["source"], new["data"]["source"] = "/a/train.jsonl", "/b/train.jsonl"
    assert _fingerprint_changes(old, new) == {}  # same content, elsewhere
    new["data"]["num_tasks"] = 2
    new["settings"]["reward_weights"]["format"] = 0.1
    assert _fingerprint_changes(old, new) == {"data.num_tasks": (1, 2), "settings.reward_weights.format": (0.0, 0.1)}


# ------------------------------------------------------------------ a real run, resumed


BASE = ["log.progress=false", "log.tensorboard=false", "log.plot=false", "env.id=rlvr/Code-v0",
        "sampling.max_new_tokens=2", "train.batch_groups=1", "train.group_size=2", "eval.before=false",
        "eval.every=0", "model.tiny_hidden_size=32", "model.tiny_layers=1"]


def config(out, data, *extra):
    return load_config(None, [f"log.output_dir={out}", *BASE,
                              f"env.kwargs={{dataset: {data}, sandbox_backend: subprocess}}", *extra])


def run(out, data, *extra, **kwargs):
    tr = Trainer(config(out, data, *extra), **kwargs)
    try:
        return tr, tr.train()
    finally:
        tr.close()


def rewrite_checkpoint(out, change):
    state_file = latest_checkpoint(out) / "trainer_state.pt"
    state = torch.load(state_file, weights_only=False)
    change(state["env_fingerprint"]["record"]["verifier"]["settings"])
    state["env_fingerprint"]["digest"] = "0" * 16  # as the record's digest would differ
    torch.save(state, state_file)


def test_a_code_checkpoint_from_before_the_sandbox_entry_resumes(tmp_path):
    data, out = tmp_path / "train.jsonl", tmp_path / "run"
    data.write_text("".join(json.dumps({"text": f"Return {i}.", "test_list": [f"assert f() == {i}"]}) + "\n"
                            for i in range(4)))
    first, _ = run(out, data, "train.total_steps=1")
    assert "sandbox" in first.env_fingerprint["record"]["verifier"]["settings"]
    saved = copy.deepcopy(torch.load(latest_checkpoint(out) / "trainer_state.pt", weights_only=False))

    rewrite_checkpoint(out, lambda settings: settings.pop("sandbox"))  # as rlvr wrote it before
    resumed = Trainer(config(out, data, "train.total_steps=2"), resume=True)  # the check is made here
    resumed.close()
    assert resumed.step_count == 1 and "env.fingerprint" not in resumed._config_changes

    torch.save(saved, latest_checkpoint(out) / "trainer_state.pt")  # the step-1 state again, other limits
    rewrite_checkpoint(out, lambda settings: settings["sandbox"]["limits"].update(memory_mb=64))
    with pytest.raises(ResumeError, match=r"verifier\.settings\.sandbox\.limits\.memory_mb: 64 -> 512.*"
                                          r"--allow-config-change.*record the same setup in more detail"):
        Trainer(config(out, data, "train.total_steps=2"), resume=True)
