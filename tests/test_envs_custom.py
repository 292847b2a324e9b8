"""Tasks registered from a generator (`rlvr.register(..., generator=fn)`) are checked as dataset rows are."""

from __future__ import annotations


import pytest

import rlvr
from rlvr.envs.custom import GeneratorEnv
from rlvr.envs.tasks import DatasetError, GeneratorError, GeneratorSource, Task
from rlvr.envs.vector import TextVectorEnv


def empty_gold(rng):
    return {"question": "What is 2+2?", "answer": "  "}


def task_of_nones(rng):
    return Task("", None, None, {})


def unparsable_math_gold(rng):
    return {"question": "x?", "answer": "\\frac{"}


@pytest.mark.parametrize("generator, verifier, field, value, problem", [
    (empty_gold, "exact", "'answer'", "'  '", "the gold answer is empty"),
    (task_of_nones, "exact", "'question'", "None", "it must be non-empty text"),
    (unparsable_math_gold, "math", "'answer'", "'\\\\frac{'", "cannot be parsed as a math answer"),
])
def test_a_generator_making_an_unusable_task_fails_when_the_env_is_built(generator, verifier, field, value, problem):
    # these used to give reward 1.0 to "" (empty gold), prompt the model with "None" and score the
    # answer "None" right (a Task of Nones), or flag every step invalid (an unparsable math gold)
    env_id = rlvr.register(f"rlvr/Gen{generator.__name__.title().replace('_', '')}-v0", generator=generator,
                           verifier=verifier, force=True)
    with pytest.raises(GeneratorError) as raised:
        rlvr.make(env_id)
    message = str(raised.value)
    assert message.startswith(f"{env_id}: generator {generator.__name__} returned {field} {value}: "), message
    assert problem in message and message.endswith("fix the generator")
    assert isinstance(raised.value, DatasetError)  # as the same row given as dataset= is refused


def test_the_same_empty_gold_is_refused_from_a_dataset_too():
    env_id = rlvr.register("rlvr/EmptyGoldRows-v0", dataset=[empty_gold(None)], verifier="exact", force=True)
    with pytest.raises(DatasetError, match="the gold answer is empty"):
        rlvr.make(env_id)


def half_empty(rng, word="four"):
    return {"question": "2+2?", "answer": word if rng.random() >= 0.5 else ""}  # task 0 (seed 0) is good


def first_error(reset, tries=50):
    """The GeneratorError of the first of `tries` seeded resets that raises one (None if none does)."""
    for seed in range(tries):
        try:
            reset(seed=seed)
        except GeneratorError as exc:
            return str(exc)
    return None


def test_a_task_that_is_bad_only_sometimes_fails_at_reset_naming_env_generator_and_value():
    env_id = rlvr.register("rlvr/HalfEmpty-v0", generator=half_empty, verifier="exact",
                           generator_settings={"word": "four"}, force=True)
    env = rlvr.make(env_id)  # the first task (checked while building) is fine
    assert first_error(env.reset) == (f"{env_id}: generator half_empty with settings {{'word': 'four'}} returned "
                                      "'answer' '': the gold answer is empty; fix the generator")
    vec = TextVectorEnv([lambda: rlvr.make(env_id) for _ in range(2)])  # a vector env's resets: the same error
    assert first_error(vec.reset).startswith(f"{env_id}: generator half_empty")
    vec.close()


def test_generated_gold_answers_are_converted_as_the_verifier_converts_a_dataset_column():
    def gsm8k_style(rng):
        return {"question": "1+1?", "answer": "1 plus 1 is 2 #### 2"}

    def a_task_with_a_number(rng):
        return Task("", "1+1?", 2)

    for generator in (gsm8k_style, a_task_with_a_number):
        env = rlvr.make(rlvr.register("rlvr/ConvertedGold-v0", generator=generator, verifier="math", force=True)).unwrapped
        env.reset(seed=0)
        assert env.task.answer == "2"  # math_gold's conversion, as for a dataset's answer column
        assert env.step("\\boxed{2}")[1] == 1.0


def test_a_callable_verifier_gets_the_generated_gold_as_made():
    seen = []

    def judge(gold, completion):
        seen.append(gold)
        return completion == str(gold)

    env = rlvr.make(rlvr.register("rlvr/AnyGold-v0", generator=lambda rng: {"question": "q", "answer": 0},
                                  verifier=judge, force=True))
    env.reset(seed=0)
    assert env.step("0")[1] == 1.0 and seen == [0]  # no conversion, only the None check


def test_an_env_built_directly_names_the_generator():
    with pytest.raises(GeneratorError, match=r"^generator empty_gold returned 'answer' '  ': the gold answer is empty"):
        GeneratorEnv(empty_gold, verifier="exact")
    source = GeneratorSource(empty_gold)  # without a verifier's checks: only question and answer are required
    assert source.get(0).answer == "  "
