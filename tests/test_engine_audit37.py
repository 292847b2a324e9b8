"""Audit 37 of the engines: the text of a sample is the text of its ids, whatever the tokenizer's
`clean_up_tokenization_spaces` (on in Llama-3's and GPT-2's tokenizer configs), which drops spaces
before punctuation: "from . import x" became "from. import x", a SyntaxError the env scored, and a
stop string holding such a space never matched."""

from __future__ import annotations

import pytest

from rlvr.trainers.engine import SamplingParams, special_vocab
from rlvr.trainers.hf_engine import HFEngine
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer
from test_trainer_engine import _Scripted

WRITTEN = 'from . import x\nprint("Hello !")'


@pytest.fixture(scope="module")
def cleaning_tok():
    tok = build_tiny_tokenizer("llama3")
    tok.clean_up_tokenization_spaces = True  # as Llama-3's tokenizer_config.json ships it
    assert tok.decode(tok.encode(WRITTEN, add_special_tokens=False)) != WRITTEN  # the clean-up is on
    return tok


def _engine(tok, text):
    model = build_tiny_model(tok, seed=0)
    enc = lambda s: tok.encode(s, add_special_tokens=False)  # noqa: E731
    prompt = enc("x")
    return HFEngine(_Scripted(model, len(prompt), enc(text) + [tok.eos_token_id]), tok), prompt


def test_the_text_is_what_the_model_wrote(cleaning_tok):
    eng, prompt = _engine(cleaning_tok, WRITTEN)
    [[s]] = eng.generate([prompt], 1, SamplingParams(temperature=0, max_new_tokens=64))
    assert s.text == WRITTEN and s.finish_reason == "stop"


def test_a_stop_string_with_a_space_before_punctuation_stops(cleaning_tok):
    eng, prompt = _engine(cleaning_tok, WRITTEN)
    [[s]] = eng.generate([prompt], 1, SamplingParams(temperature=0, max_new_tokens=64, stop=(" !",)))
    assert s.meta.get("stop_reason") == " !" and s.text == 'from . import x\nprint("Hello'


def test_special_tokens_are_found_with_the_clean_up_on(cleaning_tok):
    assert "<|eot_id|>" in special_vocab(cleaning_tok)
