"""Gymnasium edges: specs that serialise (`to_json`), `gymnasium.make_vec` in every mode, and the
worker pools (calculator, math verifier) shut down at interpreter exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.envs.registration import EnvSpec, load_env_creator

import rlvr
from rlvr.envs import BUILTIN_ENVS
from rlvr.envs import registry
from rlvr.envs.vector import TextVectorEnv
from rlvr.verifiers import timelimit
from rlvr.verifiers.timelimit import WorkerCrashed, get_pool

ROOT = Path(__file__).resolve().parents[1]


def add(rng):
    a, b = rng.integers(1, 9, size=2)
    return {"question": f"{a}+{b}=", "answer": str(a + b)}


def _step_all(vec) -> list[float]:
    """Rewards of one step in which every sub-env answers its own task."""
    vec.reset(seed=0)
    golds = vec.call("task") if not isinstance(vec, TextVectorEnv) else [env.unwrapped.task for env in vec.envs]
    rewards = vec.step([str(task.answer) for task in golds])[1].tolist()
    vec.close()
    return rewards


# ------------------------------------------------------------------ to_json


@pytest.mark.parametrize("env_id", sorted(BUILTIN_ENVS))
def test_builtin_specs_serialise_and_come_back(env_id):
    spec = gym.spec(env_id)
    assert isinstance(spec.entry_point, str) and isinstance(spec.vector_entry_point, str)
    loaded = EnvSpec.from_json(spec.to_json())
    assert loaded.id == env_id and loaded.vector_entry_point == spec.vector_entry_point
    assert load_env_creator(loaded.entry_point) is load_env_creator(spec.entry_point)


def test_a_spec_read_back_from_json_builds_the_env_and_the_vector_env():
    spec = EnvSpec.from_json(gym.spec("rlvr/Arithmetic-v0").to_json())
    env = gym.make(spec)
    assert isinstance(env.reset(seed=0)[0], str)
    vec = gym.make_vec(spec, num_envs=2)
    assert type(vec) is TextVectorEnv and _step_all(vec) == [1.0, 1.0]


def test_a_dataset_file_registration_serialises(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"question": "1+1?", "answer": "2"}))
    env_id = rlvr.register("rlvr/GymEdgesFile-v0", dataset=str(path), verifier="exact", force=True)
    assert gym.spec(env_id).entry_point == "rlvr.envs.custom:DatasetEnv"
    spec = EnvSpec.from_json(gym.spec(env_id).to_json())
    assert spec.kwargs["dataset"] == str(path)
    env = gym.make(spec)
    env.reset(seed=0)
    assert env.step("2")[1] == 1.0
    assert _step_all(gym.make_vec(spec, num_envs=2)) == [1.0, 1.0]


def test_arguments_that_are_no_json_are_what_json_refuses_not_the_entry_point():
    env_id = rlvr.register("rlvr/GymEdgesGen-v0", generator=add, force=True)
    spec = gym.spec(env_id)
    assert spec.kwargs["generator"] is add and isinstance(spec.entry_point, str)
    with pytest.raises(TypeError, match="Object of type function is not JSON serializable"):
        spec.to_json()  # as for any Gymnasium spec with a function among its kwargs
    rows = [{"question": "1+1?", "answer": "2"}]
    env_id = rlvr.register("rlvr/GymEdgesRows-v0", dataset=rows, verifier="exact", force=True)
    assert gym.spec(env_id).kwargs["dataset"].value is rows
    with pytest.raises(TypeError, match="Object of type ByReference is not JSON serializable"):
        gym.spec(env_id).to_json()


def test_entry_point_names_escape_ids_with_a_colon():
    name = registry._creator_name("TextVectorEnv", "rlvr/Odd:Name-v0")
    assert name.count(":") == 1  # Gymnasium splits an entry point at its only ':'
    assert load_env_creator(name).args == ("rlvr/Odd:Name-v0",)
    with pytest.raises(AttributeError):
        load_env_creator("rlvr.envs.registry:NoSuchThing[rlvr/Math-v0]")


# ------------------------------------------------------------------ make_vec in every mode


@pytest.mark.parametrize("mode", [None, "sync", "async"])
def test_make_vec_modes_for_builtin_and_registered_ids(mode):
    ids = ["rlvr/Arithmetic-v0", rlvr.register("rlvr/GymEdgesGenVec-v0", generator=add, force=True),
           rlvr.register("rlvr/GymEdgesRowsVec-v0", dataset=[{"question": "1+1?", "answer": "2"}], verifier="exact", force=True)]
    expected = {None: TextVectorEnv, "sync": gym.vector.SyncVectorEnv, "async": gym.vector.AsyncVectorEnv}[mode]
    extra = {"vector_kwargs": {"shared_memory": False}} if mode == "async" else {}
    for env_id in ids:
        vec = gym.make_vec(env_id, num_envs=2, vectorization_mode=mode, **extra)
        assert type(vec) is expected
        assert _step_all(vec) == [1.0, 1.0]


def test_make_vec_keeps_objects_that_cannot_be_copied():
    """`gymnasium.make_vec` deep-copies the spec: a verifier holding a lock used to fail it in every mode."""

    class Judge:
        def __init__(self):
            self.lock, self.calls = threading.Lock(), 0

        def __call__(self, gold, completion):
            with self.lock:
                self.calls += 1
            return completion.strip() == gold

    judge = Judge()
    env_id = rlvr.register("rlvr/GymEdgesJudge-v0", dataset=[{"question": "1+1?", "answer": "2"}], verifier=judge, force=True)
    assert isinstance(gym.spec(env_id).kwargs["verifier"], registry.ByReference)
    for mode in (None, "sync"):
        assert _step_all(gym.make_vec(env_id, num_envs=2, vectorization_mode=mode)) == [1.0, 1.0]
    assert judge.calls == 4  # the registered object itself, in every sub-env


# ------------------------------------------------------------------ worker pools at exit


def _run_python(code: str) -> tuple[str, float]:
    """Run `code` under `python -W always`; return its stderr and the seconds from its last
    output line (a `time.monotonic()` it prints) to the end of the process."""
    done = subprocess.run([sys.executable, "-W", "always", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    ended = time.monotonic()
    assert done.returncode == 0, done.stderr
    return done.stderr, ended - float(done.stdout.split()[-1])


def _dead(pid: int) -> bool:
    """True when process `pid` is gone or a zombie (in a container nothing may reap it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("code", [
    # the calculator tool of ToolMath-v0
    "import time, rlvr\n"
    "env = rlvr.make('rlvr/ToolMath-v0')\n"
    "env.reset(seed=0)\n"
    "obs = env.step('<tool_call>{\"name\": \"calculator\", \"arguments\": {\"expression\": \"2+2\"}}</tool_call>')[0]\n"
    "assert '<tool_response>\\n4\\n</tool_response>' in obs, obs\n"
    "print(time.monotonic())\n",
    # the math verifier's sympy stage
    "import time\n"
    "from rlvr.verifiers.math import verify\n"
    "assert verify('\\\\boxed{\\\\sqrt{8}}', '2\\\\sqrt{2}').correct\n"
    "from rlvr.verifiers import timelimit\n"
    "assert timelimit._pools  # the case went to the worker pool\n"
    "print(time.monotonic())\n",
], ids=["calculator", "math-verifier"])
def test_worker_pools_are_closed_at_exit_without_resource_warnings(code):
    stderr, exiting = _run_python(code)
    assert "ResourceWarning" not in stderr, stderr
    assert exiting < 5  # no hang at exit


def test_exit_kills_a_stuck_worker_and_a_zygote_that_does_not_exit():
    code = (
        "import os, signal, threading, time\n"
        "from rlvr.verifiers.timelimit import get_pool\n"
        "pool = get_pool(1)\n"
        "assert pool.call('rlvr.verifiers.timelimit:_sleep_then_return', (0, 1), timeout=30) == 1\n"
        "def stuck():\n"
        "    try:\n"
        "        pool.call('rlvr.verifiers.timelimit:_busy_loop', (60,), timeout=60)\n"
        "    except Exception:\n"
        "        pass\n"
        "worker, zygote = pool._idle.queue[-1].pid, pool._zygote.process.pid  # the one the next call takes\n"
        "threading.Thread(target=stuck, daemon=True).start()\n"
        "while not pool._idle.empty(): time.sleep(0.01)\n"
        "time.sleep(0.2)  # the job reaches the worker\n"
        "os.kill(zygote, signal.SIGSTOP)  # it cannot exit when told to: killed after the bounded wait\n"
        "print(worker, zygote, time.monotonic())\n"
    )
    # a worker left running holds the output pipes open: without the exit handler this times out
    done = subprocess.run([sys.executable, "-W", "always", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=20)
    ended = time.monotonic()
    assert done.returncode == 0, done.stderr
    worker, zygote, printed = done.stdout.split()
    assert "ResourceWarning" not in done.stderr, done.stderr
    assert ended - float(printed) < 6  # the zygote's wait (2 s), then the kill
    assert _dead(int(worker)) and _dead(int(zygote))


def test_closing_with_kill_busy_ends_the_calls_under_way_and_get_pool_replaces_a_closed_pool():
    pool = get_pool(1, memory_mb=1024)
    errors: list[BaseException] = []

    def stuck():
        try:
            pool.call("rlvr.verifiers.timelimit:_busy_loop", (30,), timeout=30)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    thread = threading.Thread(target=stuck)
    thread.start()
    while not pool._busy:
        time.sleep(0.01)
    worker = next(iter(pool._busy)).pid
    started = time.monotonic()
    pool.close(kill_busy=True)
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - started < 5
    assert len(errors) == 1 and isinstance(errors[0], WorkerCrashed)
    assert _dead(worker)
    fresh = get_pool(1, memory_mb=1024)
    assert fresh is not pool
    try:
        assert fresh.call("rlvr.verifiers.timelimit:_sleep_then_return", (0, "ok"), timeout=30) == "ok"
    finally:
        fresh.close()


def test_a_forked_child_leaves_its_parents_pool_alone_at_exit():
    pool = get_pool(1, memory_mb=1000)
    try:
        assert pool.call("rlvr.verifiers.timelimit:_sleep_then_return", (0, 1), timeout=30) == 1
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child: run the exit handler, as its interpreter's exit would
            code = 1
            try:
                timelimit._close_pools_at_exit()
                code = 0
            finally:
                os._exit(code)
        assert os.waitpid(pid, 0)[1] == 0
        assert pool.call("rlvr.verifiers.timelimit:_sleep_then_return", (0, 2), timeout=30) == 2
        assert pool._zygote is not None and pool._zygote.process.poll() is None
    finally:
        pool.close()


def test_a_registration_copied_from_another_spec_gets_the_objects_themselves():
    """`rlvr.register(new, **gym.spec(old).kwargs)`: the spec holds objects in ByReference holders,
    which register takes off again (a verifier object was refused as "got ByReference")."""
    rows = [{"question": "1+1?", "answer": "2"}]
    judge = lambda gold, completion: completion.strip() == gold  # noqa: E731
    old = rlvr.register("rlvr/CopiedFrom-v0", dataset=rows, verifier=judge, force=True)
    new = rlvr.register("rlvr/CopiedTo-v0", force=True, **gym.spec(old).kwargs)
    env = rlvr.make(new).unwrapped
    env.reset(seed=0, options={"index": 0})
    assert env.step("2")[1] == 1.0
