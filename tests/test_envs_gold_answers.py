"""Gold answers as the math verifier reads them when an env is built (GSM8K's commas, prose,
NumPy numbers), the math verifier's fingerprint, and the time limit of a user's callable verifier."""

from __future__ import annotations

import decimal
import fractions
import threading
import time

import gymnasium as gym
import numpy as np
import pytest

import rlvr
from rlvr.envs.custom import DatasetEnv, GeneratorEnv
from rlvr.envs.deadline import CallTimeout, call_within
from rlvr.envs.scoring import CALLABLE_GRACE, check_math_gold, math_gold
from rlvr.envs.tasks import DatasetError
from rlvr.envs.vector import make_vec
from rlvr.verifiers.math import GoldAnswerError, validate_gold, verify


def reward(env, index: int, answer: str) -> float:
    env.reset(options={"index": index})
    return env.step(answer)[1]


# ------------------------------------------------------------------ GSM8K's "####": thousands separators only


@pytest.mark.parametrize("solution, gold", [
    ("work\n#### 1,234,567", "1234567"), ("work\n#### 1,000.5", "1000.5"), ("work\n#### -2,500", "-2500"),
    ("work\n#### 72", "72"), ("work\n#### 2,3", "2,3"), ("work\n#### (1,2)", "(1,2)"), ("work\n#### 1, 2", "1, 2"),
    ("work\n#### 12,34", "12,34"), ("work\n#### 1,234, 5,678", "1,234, 5,678"),
    ("work\n#### 1,000m", "1000m"), ("work\n#### $1,200", "$1200"),  # a unit or currency around the number
])
def test_gsm8k_gold_loses_only_its_thousands_separators(solution, gold):
    # every comma used to go: (1,2) became (12) and 2,3 became 23
    assert math_gold(solution) == gold


def test_a_gsm8k_gold_with_a_list_or_a_point_scores_the_right_answer_not_the_commas_dropped():
    rows = [{"question": "point?", "answer": "work\n#### (1,2)"}, {"question": "roots?", "answer": "work\n#### 2,3"},
            {"question": "how many?", "answer": "work\n#### 1,234"}]
    env = rlvr.make("rlvr/Math-v0", dataset=rows)
    assert reward(env, 0, "\\boxed{(1,2)}") == 1.0 and reward(env, 0, "\\boxed{12}") == 0.0
    assert reward(env, 1, "\\boxed{2,3}") == 1.0 and reward(env, 1, "\\boxed{23}") == 0.0
    assert reward(env, 2, "\\boxed{1234}") == 1.0 and reward(env, 2, "\\boxed{1,234}") == 1.0
    # the env agrees with the verifier given the raw solution
    assert verify("work\n#### 2,3", "\\boxed{2,3}").correct and verify("work\n#### (1,2)", "\\boxed{(1,2)}").correct


# ------------------------------------------------------------------ a worked solution is not a gold answer


SOLUTIONS = ["Let x = 3. Then y = 4. The area is $12$ square units.",
             "First, note that $2+2=4$. Hence the sum is 9. So we are done.",
             "We multiply both sides by 2! This gives $x = 7$. Therefore x is 7."]


@pytest.mark.parametrize("gold", SOLUTIONS)
def test_validate_gold_refuses_a_worked_solution(gold):
    # a MATH solution without \boxed{} was taken whole as the gold: no model's final answer matches it
    with pytest.raises(GoldAnswerError, match="reads as a worked solution"):
        validate_gold(gold)


@pytest.mark.parametrize("gold", [
    "\\text{Monday}", "Tuesday", "no solution", "x y", "\\sin x", "ab + bc + ca", "[2, 5)", "(-\\infty,-2]\\cup[3,\\infty)",
    "\\begin{pmatrix} -1 \\\\ 2 \\end{pmatrix}", "2 \\text{ cm}", "4 \\text{ square units}", "12 square units",
    "60 miles per hour", "5 cubic feet per minute", "2 hours and 30 minutes", "x = 2 \\text{ or } x = 3", "\\text{(E)}",
    "\\$18.90", "10\\%", "\\frac{\\sqrt{3}}{2}", "6 \\text{ hours } 40 \\text{ minutes}", "\\text{There are 5 ways}",
    "Alice 3, Bob 5, Carl 7", "y = 2x + 3", "\\log_2 5", "3 + 4i", "\\text{Bob, Ada, Carl}", "So the answer is 5.",
    # answers made of words, which the verifier grades as they are (a first version refused them as prose)
    "Monday, Tuesday and Friday", "Alice, Bob and Carol", "red, green and blue", "Yes, it is possible",
    "He needs 5 more", "4 small red cubes", "She has 5 apples left", "The 5th term",
])
def test_validate_gold_keeps_accepting_answers_that_use_words(gold):
    validate_gold(gold)


def test_a_math_solution_without_boxed_answer_fails_when_the_env_is_built_naming_the_row():
    # the whole solution was the gold: nothing could ever score, and nothing said so
    rows = [{"problem": "p", "solution": "So $x = \\boxed{7}$."},
            {"problem": "q", "solution": "Let x = 3. Then y = 4. The area is $12$ square units."}]
    with pytest.raises(DatasetError, match=r"row 1: bad gold answer in column 'solution' .*reads as a worked solution .*\\boxed"):
        rlvr.make("rlvr/Math-v0", dataset=rows)
    env = rlvr.make("rlvr/Math-v0", dataset=rows[:1])  # the boxed one is fine
    assert reward(env, 0, "\\boxed{7}") == 1.0


def test_check_math_gold_returns_the_reason_for_a_worked_solution():
    assert "reads as a worked solution" in check_math_gold(math_gold("We find x. It equals 7. Done."))
    assert check_math_gold(math_gold("We find x. It equals \\boxed{7}. Done.")) is None


# ------------------------------------------------------------------ NumPy (and other) numbers as golds


@pytest.mark.parametrize("gold, text, answer", [
    (np.int64(7), "7", "\\boxed{7}"), (np.int32(-3), "-3", "\\boxed{-3}"), (np.float64(0.5), "0.5", "\\boxed{1/2}"),
    (fractions.Fraction(3, 4), "3/4", "\\boxed{0.75}"),
])
def test_numpy_and_fraction_golds_are_numbers(gold, text, answer):
    # "a math gold answer must be a non-empty string (or number)" for what rng.integers returns
    assert math_gold(gold) == text and check_math_gold(gold) is None and check_math_gold(math_gold(gold)) is None
    assert validate_gold(gold) == text
    env = GeneratorEnv(lambda rng: {"question": "q", "answer": gold}, verifier="math")
    assert reward(env, 0, answer) == 1.0
    env = DatasetEnv([{"question": "q", "answer": gold}], verifier="math")
    assert reward(env, 0, answer) == 1.0 and env.source.get(0).answer == text


@pytest.mark.parametrize("gold", [True, np.bool_(False), float("nan"), decimal.Decimal("NaN")])
def test_bools_and_nan_are_not_math_golds(gold):
    assert check_math_gold(math_gold(gold)) is not None
    with pytest.raises(GoldAnswerError):
        validate_gold(gold)


# ------------------------------------------------------------------ one fingerprint per setup


def test_math_timeout_given_as_int_or_float_has_one_fingerprint():
    def digest(**kwargs):
        return rlvr.make("rlvr/Math-v0", **kwargs).reset(options={"index": 0})[1]["fingerprint"]

    default, as_int, as_float = digest(), digest(timeout=5), digest(timeout=5.0)
    assert default.digest == as_int.digest == as_float.digest
    assert as_int["verifier"]["settings"]["timeout"] == 5.0
    rows = [{"question": "q", "answer": "1"}]
    five = DatasetEnv(rows, verifier_settings={"timeout": 5}).fingerprint()
    assert five.digest == DatasetEnv(rows, verifier_settings={"timeout": 5.0}).fingerprint().digest
    assert DatasetEnv(rows, verifier_settings={"timeout": 6}).fingerprint().digest != five.digest


# ------------------------------------------------------------------ a callable verifier's time limit


ROWS = [{"question": "1+1?", "answer": "2"}]


@pytest.fixture
def stuck():
    """A verifier that blocks until the test ends (then returns), as a hung judge would."""
    release = threading.Event()

    def stuck_verifier(gold, completion):
        release.wait(30)
        return True

    yield stuck_verifier
    release.set()


def step_within(env, action, seconds: float):
    """env.step(action) run in a thread; its result, or a failure if it has not returned in `seconds`."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(env.step(action)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert out, f"env.step did not return within {seconds}s"
    return out[0]


def test_a_hung_callable_verifier_gives_a_flagged_verdict_within_its_limit(stuck):
    # env.step blocked forever
    env = DatasetEnv(ROWS, verifier=stuck, verifier_settings={"timeout": 0.3})
    env.reset(options={"index": 0})
    start = time.monotonic()
    _, reward_, terminated, _, info = step_within(env, "2", 5)
    assert time.monotonic() - start < 3
    assert reward_ == 0.0 and terminated and info["valid"] is False
    assert "did not return within its time limit of 0.3s" in info["error"]
    assert "verifier_settings={'timeout': seconds}" in info["error"] and "background" in info["error"]
    assert env.fingerprint()["verifier"]["settings"] == {"timeout": 0.3}


def test_a_hung_callable_verifier_is_flagged_in_a_vector_env_too(stuck, registered):
    env_id = registered("rlvr/StuckJudge-v0", dataset=ROWS, verifier=stuck, verifier_settings={"timeout": 0.3})
    envs = make_vec(env_id, 3)
    try:
        envs.reset(seed=0)
        out: list = []
        thread = threading.Thread(target=lambda: out.append(envs.step(["2", "2", "2"])), daemon=True)
        start = time.monotonic()
        thread.start()
        thread.join(5)
        assert out, "the vector env's step did not return"
        assert time.monotonic() - start < 3
        _, rewards, terminated, _, info = out[0]
        assert list(rewards) == [0.0] * 3 and all(terminated) and not any(info["valid"])
        assert all("time limit of 0.3s" in error for error in info["error"])
    finally:
        envs.close()


def test_a_callable_that_takes_timeout_gets_it_and_one_that_does_not_is_not_passed_it():
    seen = []

    def judge_with_timeout(gold, completion, timeout):
        seen.append(timeout)
        return completion == gold

    def plain_judge(gold, completion):  # a timeout setting used to make every step raise TypeError
        return completion == gold

    for judge in (judge_with_timeout, plain_judge):
        env = DatasetEnv(ROWS, verifier=judge, verifier_settings={"timeout": 2})
        env.reset(options={"index": 0})
        _, reward_, _, _, info = env.step("2")
        assert reward_ == 1.0 and info["valid"], info.get("error")
    assert seen == [2]  # as given


def test_a_callable_that_takes_timeout_is_waited_a_grace_more_to_end_the_call_itself():
    def judge(gold, completion, timeout):
        time.sleep(timeout + 0.2)  # its own limit ends a bit after the setting: the grace covers it
        return False

    env = DatasetEnv(ROWS, verifier=judge, verifier_settings={"timeout": 0.2})
    env.reset(options={"index": 0})
    _, reward_, _, _, info = env.step("2")
    assert CALLABLE_GRACE >= 0.5 and info["valid"] and reward_ == 0.0


def test_callable_verifiers_keep_their_verdicts_and_failures():
    def crash(gold, completion):
        return 1 / 0

    for verifier, want_reward, valid in [(lambda g, c: c == g, 1.0, True), (lambda g, c: 0.5, 0.5, True),
                                         (crash, 0.0, False)]:
        env = DatasetEnv(ROWS, verifier=verifier)
        env.reset(options={"index": 0})
        _, reward_, _, _, info = env.step("2")
        assert reward_ == want_reward and info["valid"] is valid
    assert "ZeroDivisionError" in info["error"]


def test_a_bad_time_limit_for_a_callable_is_refused_when_registering():
    with pytest.raises(ValueError, match=r"callable verifier: verifier_settings\['timeout'\] must be a positive finite"):
        rlvr.register("rlvr/BadLimit-v0", dataset=ROWS, verifier=lambda g, c: True, verifier_settings={"timeout": 0},
                      force=True)
    assert "rlvr/BadLimit-v0" not in gym.registry


def test_a_callable_given_timeout_none_is_called_in_the_callers_thread_without_a_limit():
    # a verifier that sets signal.alarm (as Math-Verify does) fails outside the main thread: with
    # timeout=None it is called directly, and passed timeout=None if it takes it, as before limits
    import signal

    seen = []

    def alarmed(gold, completion, timeout=5):
        seen.append((threading.current_thread() is threading.main_thread(), timeout))
        signal.signal(signal.SIGALRM, signal.getsignal(signal.SIGALRM))  # raises outside the main thread
        return gold == completion.strip()

    env = DatasetEnv(ROWS, verifier=alarmed, verifier_settings={"timeout": None})
    assert reward(env, 0, ROWS[0]["answer"]) == 1.0 and seen == [(True, None)]
    # under a limit it runs in a worker thread: the failure is flagged, and says how to run it directly
    env = DatasetEnv(ROWS, verifier=alarmed)
    env.reset(options={"index": 0})
    _, _, _, _, info = env.step(ROWS[0]["answer"])
    assert info["valid"] is False and "verifier_settings={'timeout': None}" in info["error"]
    with pytest.raises(ValueError, match="or None to call the verifier directly"):
        DatasetEnv(ROWS, verifier=alarmed, verifier_settings={"timeout": -1})


def test_call_within_takes_limits_longer_than_a_lock_can_wait():
    # Lock.acquire(timeout=1e10) raises OverflowError: a generous limit made every step fail
    assert call_within(1e10, divmod, 9, 4) == (2, 1)
    assert call_within(float("inf"), divmod, 9, 4) == (2, 1)
    env = DatasetEnv(ROWS, verifier=lambda g, c: g == c.strip(), verifier_settings={"timeout": 1e300})
    assert reward(env, 0, ROWS[0]["answer"]) == 1.0


def test_call_within_reuses_its_threads_and_lets_an_abandoned_one_end():
    def threads():
        return [t for t in threading.enumerate() if t.name == "rlvr-verifier"]

    for i in range(200):
        assert call_within(5, divmod, i, 7) == (i // 7, i % 7)
    assert len(threads()) <= 2  # one worker, reused: not a thread per call
    with pytest.raises(KeyError):
        call_within(5, {}.__getitem__, "missing")  # raised in the caller
    release, ran_in = threading.Event(), []

    def hang():
        ran_in.append(threading.current_thread())
        release.wait(30)

    with pytest.raises(CallTimeout, match="no result within 0.1s"):
        call_within(0.1, hang)
    assert ran_in[0].daemon and ran_in[0].is_alive()  # a daemon: it never keeps the process alive
    assert call_within(5, divmod, 9, 4) == (2, 1)  # another worker serves later calls meanwhile
    release.set()
    ran_in[0].join(2)
    assert not ran_in[0].is_alive()  # once its call returns, the abandoned worker ends
