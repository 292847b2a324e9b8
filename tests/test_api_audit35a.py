"""Library API edges (audit 35): a Verdict built from NumPy values or 1/0 is a plain bool/float
one, `HFEngine.load_weights` refuses a bad state_dict without touching the weights, `collect` takes
NumPy task indices, and `SamplingParams` refuses stop token ids that are no whole numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import rlvr
from rlvr.envs.scoring import CALLABLE_RESULT_RULES, as_verdict
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.hf_engine import HFEngine
from rlvr.trainers.rollout import RolloutCollector
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer
from rlvr.verifiers.verdict import Verdict

from conftest import model_weights

ROWS = [{"question": "1+1?", "answer": "2"}]


@pytest.fixture(scope="module")
def tok():
    return build_tiny_tokenizer()


def unchanged(model, before: dict) -> bool:
    """Whether `model`'s weights are still those `model_weights` copied into `before`."""
    return all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


# ------------------------------------------------------------------ Verdict from NumPy values


@pytest.mark.parametrize("score, correct, want_score, want_correct", [
    (np.float64(1.0), np.isclose(2.0, 2.0), 1.0, True),
    (np.float32(0.5), np.bool_(False), 0.5, False),
    (1, 1, 1.0, True),
    (np.int64(0), np.int64(0), 0.0, False),
    (0.25, np.array(True), 0.25, True),
])
def test_a_verdict_of_numpy_values_or_1_0_holds_a_float_and_a_bool(score, correct, want_score, want_correct):
    # was: bool(verdict) raised TypeError ("__bool__ should return bool, returned numpy.bool")
    verdict = Verdict(score=score, correct=correct, reason="r")
    assert bool(verdict) is want_correct
    assert type(verdict.score) is float and verdict.score == want_score
    assert verdict.correct is want_correct
    json.dumps(verdict.to_dict())  # plain values: a NumPy bool is no JSON


def test_bool_of_a_verdict_is_a_bool_whatever_correct_holds():
    assert bool(Verdict(score=0.0, correct=None, reason="r")) is False
    assert bool(Verdict.right("r")) is True and bool(Verdict.wrong("r")) is False


def test_a_user_verifier_returning_a_numpy_verdict_scores_and_its_verdict_is_truthy(registered):
    def close_enough(gold, completion):
        ok = np.isclose(float(completion), float(gold), rtol=1e-3)
        return Verdict(score=np.float64(ok), correct=ok, reason="r")

    env = rlvr.make(registered("rlvr/Audit35NumpyVerdict-v0", dataset=ROWS, verifier=close_enough))
    env.reset(seed=0)
    _, reward, _, _, info = env.step("2.0001")
    assert reward == 1.0 and info["valid"] is True
    assert bool(info["verdict"]) is True and info["verdict"].correct is True
    assert info["fingerprint"]["verifier"]["result_rules"] == CALLABLE_RESULT_RULES == 3


@pytest.mark.parametrize("correct", [None, "yes", 2, 0.5])
def test_as_verdict_refuses_a_verdict_whose_correct_is_no_bool(correct):
    with pytest.raises(ValueError, match="correct="):
        as_verdict(Verdict(score=1.0, correct=correct, reason="r"), "v")


def test_a_user_verdict_with_a_non_bool_correct_is_a_failed_verification(registered):
    env = rlvr.make(registered("rlvr/Audit35BadCorrect-v0", dataset=ROWS,
                               verifier=lambda gold, completion: Verdict(score=1.0, correct="no", reason="r")))
    env.reset(seed=0)
    _, reward, _, _, info = env.step("2")
    assert reward == 0.0 and info["valid"] is False and "correct='no'" in info["error"]


@pytest.mark.parametrize("score", [float("nan"), math.inf, 1.5, "1"])
def test_as_verdict_still_refuses_a_verdict_with_a_score_that_is_no_reward(score):
    with pytest.raises(ValueError, match="score"):
        as_verdict(Verdict(score=score, correct=True, reason="r"), "v")


def test_as_verdict_reads_a_numpy_verdict_as_plain_values():
    verdict = as_verdict(Verdict(score=np.float64(0.5), correct=np.False_, reason="r"), "v")
    assert verdict == Verdict(score=0.5, correct=False, reason="r") and verdict.correct is False


# ------------------------------------------------------------------ HFEngine.load_weights


def test_a_refused_load_leaves_the_engine_weights_unchanged(tok):
    model, other = build_tiny_model(tok, seed=0), build_tiny_model(tok, seed=1)
    engine = HFEngine(model, tok)
    before = model_weights(model)
    subset = dict(list(other.state_dict().items())[:3])  # an incomplete state_dict
    with pytest.raises(ValueError, match="missing"):
        engine.load_weights(subset)
    assert unchanged(model, before)

    extra = {**other.state_dict(), "head.extra": torch.zeros(1)}  # one key too many
    with pytest.raises(ValueError, match="unexpected"):
        engine.load_weights(extra)
    assert unchanged(model, before)


def test_a_load_with_a_wrong_shape_or_a_non_tensor_is_refused_before_copying(tok):
    model, other = build_tiny_model(tok, seed=0), build_tiny_model(tok, seed=1)
    engine = HFEngine(model, tok)
    before = model_weights(model)
    sd = dict(other.state_dict())
    last = list(sd)[-1]
    sd[last] = torch.zeros(*sd[last].shape, 2)  # the last entry: load_state_dict copied all others first
    with pytest.raises(ValueError, match="another shape"):
        engine.load_weights(sd)
    assert unchanged(model, before)
    sd[last] = [0.0]
    with pytest.raises(ValueError, match="not a tensor"):
        engine.load_weights(sd)
    assert unchanged(model, before)


def test_a_full_load_copies_and_a_tied_head_may_be_left_out(tok):
    model, other = build_tiny_model(tok, seed=0), build_tiny_model(tok, seed=1)
    engine = HFEngine(model, tok)
    engine.load_weights(other)
    assert all(torch.equal(v, other.state_dict()[k]) for k, v in model.state_dict().items())
    if model.get_output_embeddings().weight is model.get_input_embeddings().weight:  # tied: lm_head may be absent
        third = build_tiny_model(tok, seed=2)
        sd = {k: v for k, v in third.state_dict().items() if not k.endswith("lm_head.weight")}
        engine.load_weights(sd)
        assert all(torch.equal(v, third.state_dict()[k]) for k, v in model.state_dict().items())


# ------------------------------------------------------------------ collect with NumPy indices


def test_collect_takes_numpy_task_indices_and_refuses_bools_and_other_types(tok):
    engine = HFEngine(build_tiny_model(tok, seed=0), tok)
    collector = RolloutCollector(engine, "rlvr/Arithmetic-v0", tok, env_kwargs={"format": "compact"})
    sampling = SamplingParams(max_new_tokens=2, seed=0)
    try:
        groups = collector.collect(np.array([3, 5], dtype=np.int64), n=1, sampling=sampling)
        assert [g[0].task_id for g in groups] == ["Arithmetic/3", "Arithmetic/5"]
        with pytest.raises(TypeError, match=r"tasks\[1\].*bool"):
            collector.collect([0, True], n=1, sampling=sampling)
        with pytest.raises(TypeError, match=r"tasks\[0\].*float"):
            collector.collect([1.5], n=1, sampling=sampling)
    finally:
        collector.close()


# ------------------------------------------------------------------ SamplingParams.stop_token_ids


@pytest.mark.parametrize("bad", [1.7, True, np.bool_(True), "5", None, float("nan")])
def test_stop_token_ids_that_are_no_whole_numbers_are_refused(bad):
    # was: 1.7 silently became token 1
    with pytest.raises(ValueError, match="stop_token_ids must be whole numbers"):
        SamplingParams(stop_token_ids=(2, bad))


def test_stop_token_ids_take_numpy_ints_whole_floats_and_a_single_id():
    assert SamplingParams(stop_token_ids=(np.int64(3), 2.0, 5)).stop_token_ids == (3, 2, 5)
    assert SamplingParams(stop_token_ids=np.array([1, 2])).stop_token_ids == (1, 2)
    assert SamplingParams(stop_token_ids=7).stop_token_ids == (7,)
    assert all(type(t) is int for t in SamplingParams(stop_token_ids=(np.int32(4),)).stop_token_ids)
