"""Fingerprints: a bound method's class counts, a registered code verifier names the sandbox backend
it runs on, and a fingerprint's records can be written as JSON."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
import textwrap

import pytest

import rlvr
from rlvr.envs.scoring import callable_identity
from rlvr.sandbox import make_sandbox

ROWS = [{"question": "Capital of France?", "answer": "Paris"}]
CODE_ROWS = [{"question": "Write f() returning 1.", "answer": "assert f() == 1", "entry_point": "f"}]


# ------------------------------------------------------------------ a bound method's class


class Base:
    def check(self, gold, completion):
        return self.norm(completion) == self.norm(str(gold))

    def norm(self, s):
        return s.strip()


class CaseInsensitive(Base):
    def norm(self, s):
        return s.strip().lower()


class Strict(Base):
    pass


def _register_and_step(env_id: str, verifier) -> tuple[float, str]:
    rlvr.register(env_id, dataset=ROWS, verifier=verifier, force=True)
    env = rlvr.make(env_id).unwrapped
    env.reset(options={"index": 0})
    _, reward, *_, info = env.step("paris")
    return reward, info["fingerprint"].digest


def test_bound_methods_of_a_subclass_overriding_a_helper_have_another_fingerprint():
    base_reward, base_digest = _register_and_step("rlvr/Audit29Base-v0", Base().check)
    ci_reward, ci_digest = _register_and_step("rlvr/Audit29CI-v0", CaseInsensitive().check)
    assert (base_reward, ci_reward) == (0.0, 1.0)  # they score differently...
    assert base_digest != ci_digest  # ...so they are two setups
    identity = callable_identity(CaseInsensitive().check)
    assert identity["class"]["name"] == f"{__name__}.CaseInsensitive"


def test_a_subclass_that_changes_nothing_is_named_but_equal_objects_of_one_class_agree():
    assert callable_identity(Base().check) == callable_identity(Base().check)
    assert callable_identity(Strict().check)["class"]["name"].endswith(".Strict")
    assert callable_identity(Strict().check) != callable_identity(Base().check)


def test_a_classmethods_class_and_a_callable_objects_helpers_count():
    class A:
        @classmethod
        def check(cls, gold, completion):
            return cls.norm(completion) == gold

        @staticmethod
        def norm(s):
            return s

    class B(A):
        @staticmethod
        def norm(s):
            return s.lower()

    assert callable_identity(A.check) != callable_identity(B.check)

    class Call:
        def __call__(self, gold, completion):
            return self.norm(completion) == gold

        def norm(self, s):
            return s

    class CallLower(Call):
        def norm(self, s):
            return s.lower()

    assert callable_identity(Call())["class"] != callable_identity(CallLower())["class"]


MODULE = textwrap.dedent("""
    class Base:
        TOLERANCES = {"a", "b", "c"}
        def check(self, gold, completion):
            return self.norm(completion) == gold
        def norm(self, s):
            return s.strip()
    class Lower(Base):
        def norm(self, s):
            return s.strip().lower()
""")
PRINT_IDENTITY = ("import json, sys; sys.path.insert(0, sys.argv[1]); import audit29_verifiers as m; "
                  "from rlvr.envs.scoring import callable_identity; "
                  "print(json.dumps([callable_identity(m.Base().check), callable_identity(m.Lower().check)], sort_keys=True))")


def test_the_class_identity_is_the_same_in_every_process(tmp_path):
    (tmp_path / "audit29_verifiers.py").write_text(MODULE)
    outputs = []
    for seed in ("1", "2"):  # set order and ids differ between these processes
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", PRINT_IDENTITY, str(tmp_path)], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    base, lower = outputs[0]
    assert base["class"] != lower["class"] and base["code"] == lower["code"]


# ------------------------------------------------------------------ the code verifier's backend


def test_registered_code_verifier_names_the_backend_it_runs_on_once_fingerprinted():
    """Built lazily: making the env starts no sandbox; the fingerprint names the one the answers
    run on ("auto" resolved), as Code-v0's does. In a fresh process, where no sandbox exists yet."""
    script = textwrap.dedent("""
        import rlvr, rlvr.verifiers.code as code
        rlvr.register("rlvr/Audit29Code-v0", dataset=%r, verifier="code")
        env = rlvr.make("rlvr/Audit29Code-v0").unwrapped
        assert code._shared is None, "a sandbox was started when the env was built"
        env.reset(seed=0)
        backend = env.fingerprint()["verifier"]["settings"]["sandbox_backend"]
        assert code._shared is not None and backend == code._shared.name, backend
        print(backend)
    """ % (CODE_ROWS,))
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in ("bwrap", "docker", "subprocess")


def test_registered_code_verifier_with_its_own_sandbox_names_that_backend():
    with make_sandbox(backend="subprocess") as sandbox:
        rlvr.register("rlvr/Audit29CodeOwn-v0", dataset=CODE_ROWS, verifier="code",
                      verifier_settings={"sandbox": sandbox}, force=True)
        env = rlvr.make("rlvr/Audit29CodeOwn-v0").unwrapped
        env.reset(seed=0)
        _, reward, *_, info = env.step("```python\ndef f():\n    return 1\n```")
        assert reward == 1.0
        settings = info["fingerprint"]["verifier"]["settings"]
        assert settings["sandbox_backend"] == "subprocess" and settings["timeout"] == 10.0


# ------------------------------------------------------------------ JSON


@pytest.fixture(scope="module")
def fingerprint():
    env = rlvr.make("rlvr/Countdown-v0")
    _, info = env.reset(seed=0)
    return info["fingerprint"]


def test_a_fingerprints_records_are_written_whole_as_json(fingerprint):
    assert json.loads(json.dumps(dict(fingerprint))) == fingerprint.to_dict()
    for key, value in fingerprint.items():
        assert json.loads(json.dumps(value)) == fingerprint.to_dict()[key]


def test_nested_records_stay_read_only(fingerprint):
    settings = fingerprint["settings"]
    for change in (lambda: settings.__setitem__("x", 1), lambda: settings.__delitem__("max_turns"),
                   settings.clear, settings.popitem, lambda: settings.pop("max_turns"),
                   lambda: settings.setdefault("x", 1), lambda: settings.update(x=1), lambda: settings.__ior__({"x": 1})):
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert "x" not in settings and "max_turns" in settings
    assert fingerprint == fingerprint.to_dict() and hash(fingerprint) == hash(fingerprint.digest)


def test_nested_records_pickle_and_copy(fingerprint):
    settings = fingerprint["settings"]
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        restored = pickle.loads(pickle.dumps(settings, protocol))
        assert restored == settings and type(restored) is type(settings)
    assert copy.copy(settings) is settings and copy.deepcopy(settings) is settings
    assert pickle.loads(pickle.dumps(fingerprint)) is fingerprint
