"""Audit 32: rollouts compare a model turn with the template's rendering as it reads in context."""

from test_trainer_rollout_audit24 import FeedbackEnv, FixedTurnEngine, metaspace_tokenizer

from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.rollout import collect_rollouts


def _episode(tokens):
    tok = metaspace_tokenizer()
    ids = tok.convert_tokens_to_ids(tokens)
    [[traj]] = collect_rollouts(FixedTurnEngine(ids, "stop", "hi"), FeedbackEnv, tok, SamplingParams(max_new_tokens=20),
                                tasks=[0], n=1)
    whole = tok.decode(traj.token_ids, skip_special_tokens=False)
    rendered = tok.decode(tok.encode(tok.apply_chat_template(traj.messages, tokenize=False), add_special_tokens=False),
                          skip_special_tokens=False)
    return traj, rendered.startswith(whole)


def test_a_turn_opening_with_a_space_the_rendering_lacks_is_a_template_mismatch():
    """Before: the turn's ids were decoded alone, and a SentencePiece decoder drops the space a
    string's first token starts with, so "▁h i" read as the rendering's "hi" and the flag stayed off
    while the episode's tokens were not the template's rendering of its messages."""
    traj, tokens_are_rendering = _episode(["▁", "h", "i", "<|im_end|>"])
    assert not tokens_are_rendering and traj.template_mismatch


def test_a_turn_as_the_template_renders_it_is_no_mismatch():
    traj, tokens_are_rendering = _episode(["h", "i", "<|im_end|>"])
    assert tokens_are_rendering and not traj.template_mismatch
