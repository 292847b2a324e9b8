"""The `hf` engine on a tiny randomly initialised model and a locally built tokenizer (no downloads)."""

import pytest
import torch

from rlvr.trainers.engine import Engine, Sample, SamplingParams
from rlvr.trainers.hf_engine import HFEngine, sample_categorical, top_p_filter
from rlvr.trainers.losses import logprobs_from_logits
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer


@pytest.fixture(scope="module")
def tok():
    return build_tiny_tokenizer()


@pytest.fixture(scope="module")
def model(tok):
    return build_tiny_model(tok, seed=0)


@pytest.fixture(scope="module")
def prompts(tok):
    texts = ["12+3=", "<|im_start|>user\nWhat is 7*6?<|im_end|>\n<|im_start|>assistant\n", "x"]
    return [tok.encode(t, add_special_tokens=False) for t in texts]


def full_forward_logprobs(model, prompt, sample_ids, temperature=1.0):
    seq = torch.tensor([list(prompt) + list(sample_ids)])
    with torch.no_grad():
        logits = model(seq).logits[0, len(prompt) - 1 : -1]
    return logprobs_from_logits(logits, torch.tensor(sample_ids), temperature=temperature)


def test_tokenizer_roundtrip_and_templates(tok):
    text = "Answer: 12 + 3 = 15\n<think>ok</think>"
    ids = tok.encode(text, add_special_tokens=False)
    assert tok.decode(ids) == text
    assert tok.convert_ids_to_tokens(tok.encode("assistant", add_special_tokens=False)) == ["assistant"]
    msgs = [{"role": "user", "content": "2+2"}]
    assert tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True) == (
        "<|im_start|>user\n2+2<|im_end|>\n<|im_start|>assistant\n"
    )
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<pad>"
    l3 = build_tiny_tokenizer("llama3")
    assert l3.apply_chat_template(msgs, tokenize=False) == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n2+2<|eot_id|>"
    )
    assert l3.eos_token == "<|eot_id|>"
    with pytest.raises(ValueError, match="unknown chat_template"):
        build_tiny_tokenizer("mistral")


def test_engine_logprobs_equal_full_forward(model, tok, prompts):
    eng = HFEngine(model, tok)
    out = eng.generate(prompts, 3, SamplingParams(temperature=1.0, max_new_tokens=16, seed=0))
    assert len(out) == len(prompts) and all(len(g) == 3 for g in out)
    for prompt, group in zip(prompts, out):
        for s in group:
            assert isinstance(s, Sample) and len(s.token_ids) == len(s.logprobs) > 0
            ref = full_forward_logprobs(model, prompt, s.token_ids)
            assert torch.allclose(ref, torch.tensor(s.logprobs), atol=1e-4)
            # text is the decoded ids (no stop strings, no EOS at the end here unless sampled)
            if s.finish_reason == "length":
                assert len(s.token_ids) == 16
                assert s.text == tok.decode(s.token_ids, skip_special_tokens=True)


def test_engine_logprobs_follow_temperature_and_top_p(model, tok, prompts):
    eng = HFEngine(model, tok)
    out = eng.generate(prompts[:1], 2, SamplingParams(temperature=0.7, max_new_tokens=8, seed=1))
    for s in out[0]:
        ref = full_forward_logprobs(model, prompts[0], s.token_ids, temperature=0.7)
        assert torch.allclose(ref, torch.tensor(s.logprobs), atol=1e-4)
    # a tiny nucleus keeps only the most likely token: greedy ids, each with probability 1 (log-prob 0)
    greedy = eng.generate(prompts[:1], 1, SamplingParams(temperature=0, max_new_tokens=8))[0][0]
    nucleus = eng.generate(prompts[:1], 2, SamplingParams(temperature=1.0, top_p=1e-6, max_new_tokens=8, seed=3))[0]
    for s in nucleus:
        assert s.token_ids == greedy.token_ids
        assert max(abs(x) for x in s.logprobs) < 1e-6


def test_top_p_filter_hand_values():
    # probs [0.5, 0.3, 0.2]: top_p 0.6 keeps {0.5, 0.3} (mass before 0.3 is 0.5 < 0.6), drops 0.2
    logits = torch.log(torch.tensor([[0.3, 0.5, 0.2]]))
    kept = top_p_filter(logits, 0.6)
    assert torch.isinf(kept[0, 2]) and torch.isfinite(kept[0, :2]).all()
    # top_p 0.5 keeps only the top token (mass before 0.3 is 0.5 >= 0.5)
    assert torch.isfinite(top_p_filter(logits, 0.5)).tolist() == [[False, True, False]]
    assert torch.equal(top_p_filter(logits, 1.0), logits)
    # a top_p below float32's smallest number (0 to the logits) still keeps the top token: it masked
    # every token, and sampling then drew token 0 with a NaN log-prob
    for tiny in (1e-300, 1e-46, 0.0):
        assert torch.isfinite(top_p_filter(logits, tiny)).tolist() == [[False, True, False]]


def test_sample_categorical_draws_the_distribution():
    """Frequencies over 200k draws match the probabilities; tokens of probability 0 never come up."""
    probs = torch.tensor([0.1, 0.0, 0.25, 0.65, 0.0])
    logp = probs.log().expand(200_000, -1)
    g = torch.Generator().manual_seed(0)
    tokens = sample_categorical(logp, g)
    freq = torch.bincount(tokens, minlength=5).double() / len(tokens)
    assert torch.allclose(freq, probs.double(), atol=0.004), freq
    assert freq[1] == 0 and freq[4] == 0
    again = sample_categorical(logp[:1000], torch.Generator().manual_seed(0))
    assert torch.equal(again, tokens[:1000])  # seeded: reproducible
    one_hot = torch.tensor([[-float("inf"), 0.0, -float("inf")]]).expand(1000, -1)
    assert (sample_categorical(one_hot) == 1).all()


def test_greedy_is_deterministic_and_matches_argmax(model, tok, prompts):
    eng = HFEngine(model, tok)
    sp = SamplingParams(temperature=0, max_new_tokens=12)
    a = eng.generate(prompts, 2, sp)
    b = HFEngine(model, tok, max_batch_size=1).generate(prompts, 1, sp)  # no padding at all
    for ga, gb, prompt in zip(a, b, prompts):
        assert ga[0].token_ids == ga[1].token_ids == gb[0].token_ids
        # every greedy token is the argmax of a full forward pass over the sequence so far
        seq = torch.tensor([prompt + ga[0].token_ids])
        with torch.no_grad():
            logits = model(seq).logits[0, len(prompt) - 1 : -1]
        assert logits.argmax(-1).tolist() == ga[0].token_ids
        # recorded log-probs are the temperature-1 model log-probs
        ref = full_forward_logprobs(model, prompt, ga[0].token_ids)
        assert torch.allclose(ref, torch.tensor(ga[0].logprobs), atol=1e-4)


def test_greedy_matches_transformers_generate(model, tok, prompts):
    eng = HFEngine(model, tok)
    ours = eng.generate(prompts[:1], 1, SamplingParams(temperature=0, max_new_tokens=10))[0][0].token_ids
    with torch.no_grad():
        ref = model.generate(
            torch.tensor([prompts[0]]), attention_mask=torch.ones(1, len(prompts[0]), dtype=torch.long),
            do_sample=False, max_new_tokens=10, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        )[0, len(prompts[0]) :].tolist()
    assert ours[: len(ref)] == ref


def test_seeded_sampling_is_reproducible_and_samples_differ(model, tok, prompts):
    eng = HFEngine(model, tok)
    sp = SamplingParams(temperature=1.0, max_new_tokens=10, seed=123)
    a = eng.generate(prompts, 4, sp)
    b = eng.generate(prompts, 4, sp)
    assert [[s.token_ids for s in g] for g in a] == [[s.token_ids for s in g] for g in b]
    # a random tiny model over ~115 tokens: 4 samples of 10 tokens are not all identical
    assert len({tuple(s.token_ids) for s in a[0]}) > 1


def test_stop_strings_cut_correctly(model, tok, prompts):
    eng = HFEngine(model, tok)
    base = eng.generate(prompts[:1], 1, SamplingParams(temperature=0, max_new_tokens=24))[0][0]
    text = base.text
    assert len(text) >= 8, text
    stop = text[4:6]  # a two-character stop string taken from the greedy text
    first = text.find(stop)
    cut = eng.generate(prompts[:1], 2, SamplingParams(temperature=0, max_new_tokens=24, stop=[stop]))[0]
    for s in cut:
        assert s.finish_reason == "stop"
        assert s.text == text[:first]
        # the ids keep the token that completed the stop string and nothing after it
        n = len(s.token_ids)
        assert s.token_ids == base.token_ids[:n]
        assert stop in tok.decode(s.token_ids, skip_special_tokens=True)
        assert stop not in tok.decode(s.token_ids[:-1], skip_special_tokens=True)
        assert s.meta["stop_reason"] == stop  # the stop string matched, as vLLM reports it
        assert len(s.logprobs) == n


def test_stop_token_ids_and_eos(model, tok, prompts):
    eng = HFEngine(model, tok)
    assert tok.eos_token_id in eng.eos_token_ids
    base = eng.generate(prompts[:1], 1, SamplingParams(temperature=0, max_new_tokens=20))[0][0]
    stop_id = base.token_ids[5]
    k = base.token_ids.index(stop_id)
    s = eng.generate(prompts[:1], 1, SamplingParams(temperature=0, max_new_tokens=20, stop_token_ids=[stop_id]))[0][0]
    assert s.finish_reason == "stop" and s.token_ids == base.token_ids[: k + 1]
    # the stop token is in the ids but not in the text
    assert s.text == tok.decode(base.token_ids[:k], skip_special_tokens=True)
    # EOS ends a sample the same way (here the greedy token is declared EOS)
    eng2 = HFEngine(model, tok)
    eng2.eos_token_ids = frozenset({stop_id})  # make the greedy token the EOS: same path as real EOS
    e = eng2.generate(prompts[:1], 1, SamplingParams(temperature=0, max_new_tokens=20))[0][0]
    assert e.finish_reason == "stop" and e.token_ids == base.token_ids[: k + 1]


def test_length_finish_and_n_samples(model, tok, prompts):
    eng = HFEngine(model, tok, max_batch_size=4)
    out = eng.generate(prompts, 5, SamplingParams(temperature=1.0, max_new_tokens=3, seed=0))
    assert [len(g) for g in out] == [5, 5, 5]
    for g in out:
        for s in g:
            if s.finish_reason == "length":
                assert len(s.token_ids) == 3
            else:
                assert s.token_ids[-1] in eng.eos_token_ids
    assert eng.generate([], 3, SamplingParams()) == []


def test_load_weights_switches_model(tok, prompts):
    m0, m1 = build_tiny_model(tok, seed=0), build_tiny_model(tok, seed=1)
    eng = HFEngine(m0, tok)
    sp = SamplingParams(temperature=0, max_new_tokens=8)
    before = eng.generate(prompts[:1], 1, sp)[0][0]
    ref1 = HFEngine(m1, tok).generate(prompts[:1], 1, sp)[0][0]
    eng.load_weights(m1.state_dict())
    after = eng.generate(prompts[:1], 1, sp)[0][0]
    assert after.token_ids == ref1.token_ids and after.logprobs == pytest.approx(ref1.logprobs, abs=1e-5)
    assert before.logprobs != pytest.approx(after.logprobs, abs=1e-5)
    eng.load_weights(eng.model)  # colocated: no-op
    with pytest.raises(ValueError, match="do not fit"):
        eng.load_weights({"nope": torch.zeros(1)})
    with pytest.raises(TypeError, match="state_dict"):
        eng.load_weights(42)
    assert isinstance(eng, Engine)


def test_bad_input_is_a_clear_error(model, tok):
    eng = HFEngine(model, tok)
    with pytest.raises(ValueError, match="no tokens"):
        eng.generate([[]], 1, SamplingParams())
    with pytest.raises(ValueError, match="outside the vocabulary"):
        eng.generate([[1, 10_000]], 1, SamplingParams())
    with pytest.raises(ValueError, match="n \\(samples per prompt\\)"):
        eng.generate([[1]], 0, SamplingParams())
    with pytest.raises(ValueError, match="temperature"):
        SamplingParams(temperature=-1)
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(top_p=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        SamplingParams(max_new_tokens=0)
    assert SamplingParams(stop="\n").stop == ("\n",)
    for bad in (2.9, True):
        with pytest.raises(ValueError, match="max_new_tokens must be a whole number"):
            SamplingParams(max_new_tokens=bad)
    assert SamplingParams(max_new_tokens=4.0).max_new_tokens == 4
    with pytest.raises(TypeError, match="prompt 0 must be a list of token ids, got str"):
        eng.generate(["123"], 1, SamplingParams())
    with pytest.raises(TypeError, match="a list of lists"):
        eng.generate([1, 2, 3], 1, SamplingParams())  # one prompt, not wrapped in a list
    with pytest.raises(ValueError, match="stop_token_ids \\[10000\\] are outside the vocabulary"):
        eng.generate([[1]], 1, SamplingParams(stop_token_ids=(10_000,)))


def test_training_mode_is_restored(model, tok, prompts):
    model.train()
    HFEngine(model, tok).generate(prompts[:1], 1, SamplingParams(max_new_tokens=2, seed=0))
    assert model.training
    model.eval()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_engine_on_cuda_logprobs_equal_full_forward(tok, prompts):
    model = build_tiny_model(tok, seed=0).to("cuda")
    eng = HFEngine(model, tok)
    out = eng.generate(prompts, 2, SamplingParams(temperature=1.0, max_new_tokens=12, seed=0))
    for prompt, group in zip(prompts, out):
        for s in group:
            seq = torch.tensor([prompt + s.token_ids], device="cuda")
            with torch.no_grad():
                logits = model(seq).logits[0, len(prompt) - 1 : -1]
            ref = logprobs_from_logits(logits, torch.tensor(s.token_ids, device="cuda")).cpu()
            assert torch.allclose(ref, torch.tensor(s.logprobs), atol=1e-4)
    g1 = eng.generate(prompts, 1, SamplingParams(temperature=0, max_new_tokens=12))
    g2 = eng.generate(prompts, 1, SamplingParams(temperature=0, max_new_tokens=12))
    assert [g[0].token_ids for g in g1] == [g[0].token_ids for g in g2]


def test_rows_finishing_at_different_steps_keep_exact_logprobs(model, tok, prompts):
    # many stop ids (all digits and letters) make rows stop at different steps, so finished rows are
    # dropped from the batch and the KV cache mid-generation; the survivors must be unaffected
    stop_ids = tok.convert_tokens_to_ids(list("0123456789abcdefghijklmnopqrstuvwxyz"))
    eng = HFEngine(model, tok)
    out = eng.generate(prompts, 6, SamplingParams(temperature=1.0, max_new_tokens=12, stop_token_ids=stop_ids, seed=7))
    lengths = {len(s.token_ids) for g in out for s in g}
    assert len(lengths) > 2, lengths  # rows did finish at different steps
    for prompt, group in zip(prompts, out):
        for s in group:
            if s.finish_reason == "stop":
                assert s.token_ids[-1] in stop_ids
                assert not set(s.token_ids[:-1]) & set(stop_ids)
            ref = full_forward_logprobs(model, prompt, s.token_ids)
            assert torch.allclose(ref, torch.tensor(s.logprobs), atol=1e-4)


def test_tiny_model_and_tokenizer_survive_save_pretrained(tmp_path, tok, model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok.save_pretrained(tmp_path)
    model.save_pretrained(tmp_path)
    tok2 = AutoTokenizer.from_pretrained(tmp_path)
    model2 = AutoModelForCausalLM.from_pretrained(tmp_path)
    text = "<|im_start|>user\nAnswer: 3+4=7<|im_end|>"
    assert tok2.encode(text) == tok.encode(text) and tok2.decode(tok2.encode(text)) == text
    assert tok2.chat_template == tok.chat_template
    ids = torch.tensor([tok.encode(text)])
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, model2(ids).logits, atol=1e-6)


# ---- stops, temperature bounds, per-prompt limits, untied output layers ----------------------------


def test_every_stop_stays_a_string_and_added_tokens_also_stop_on_their_ids():
    """A non-special added token (Qwen's <tool_call>) stays in the decoded text, and a model may
    spell it in smaller tokens: it must stop as a string too, not only on its id."""
    from rlvr.trainers.engine import split_stops

    added = {"<|im_end|>": 5, "<tool_call>": 9}
    assert split_stops(["<|im_end|>", "</answer>", "<tool_call>"], added) == (["<|im_end|>", "</answer>", "<tool_call>"], [5, 9])


class _Scripted(torch.nn.Module):
    """The tiny model, made to generate `script` (token ids) from position `prompt_len` on."""

    def __init__(self, inner, prompt_len, script):
        super().__init__()
        self.inner, self.prompt_len, self.script = inner, prompt_len, script
        self.config, self.generation_config = inner.config, inner.generation_config

    def get_input_embeddings(self):
        return self.inner.get_input_embeddings()

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, **kwargs):
        out = self.inner(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, **kwargs)
        logits = out.logits.clone()
        for row, k in enumerate((position_ids[:, -1] + 1 - self.prompt_len).tolist()):
            if 0 <= k < len(self.script):
                logits[row, -1, self.script[k]] += 100.0
        out.logits = logits
        return out


def test_text_is_cut_only_where_a_sample_ended_on_its_stop_string(model, tok):
    """A stop string the per-step check missed (20 special tokens inside it decode to nothing) leaves
    the sample running to its limit: its text must still be what its ids say, not cut."""
    prompt = tok.encode("x", add_special_tokens=False)
    enc = lambda s: tok.encode(s, add_special_tokens=False)  # noqa: E731
    script = enc("a") + [tok.convert_tokens_to_ids("<|im_start|>")] * 20 + enc("b") + enc("c")
    eng = HFEngine(_Scripted(model, len(prompt), script), tok)
    [[s]] = eng.generate([prompt], 1, SamplingParams(temperature=0, max_new_tokens=len(script), stop=("ab",)))
    assert s.finish_reason == "length" and s.text == tok.decode(s.token_ids, skip_special_tokens=True) == "abc"


def test_temperatures_that_overflow_the_logits_are_refused():
    for bad in (1e-45, 1e-6, float("inf"), float("nan"), -1.0):
        with pytest.raises(ValueError, match="temperature must be 0"):
            SamplingParams(temperature=bad)
    assert SamplingParams(temperature=1e-5).temperature == 1e-5 and SamplingParams(temperature=0).temperature == 0


def test_per_prompt_limits_must_be_whole_numbers(model, tok, prompts):
    eng = HFEngine(model, tok)
    sp = SamplingParams(temperature=0, max_new_tokens=4)
    for bad in ([None, 2, 2], [1.7, 2, 2], [True, 2, 2]):
        with pytest.raises(ValueError, match="generation limit of prompt 0 must be an int >= 1"):
            eng.generate_capped(prompts, 1, sp, bad)


def test_an_untied_output_layer_missing_from_new_weights_is_refused(tok, prompts):
    import copy

    from transformers import LlamaForCausalLM

    config = copy.deepcopy(build_tiny_model(tok).config)
    config.tie_word_embeddings = False
    torch.manual_seed(0)
    eng = HFEngine(LlamaForCausalLM(config), tok)
    weights = {k: v for k, v in LlamaForCausalLM(config).state_dict().items() if k != "lm_head.weight"}
    with pytest.raises(ValueError, match="do not fit.*lm_head"):
        eng.load_weights(weights)
    tied = build_tiny_model(tok)  # tied embeddings: a state_dict may leave the output layer out
    HFEngine(tied, tok).load_weights({k: v for k, v in build_tiny_model(tok, seed=1).state_dict().items() if k != "lm_head.weight"})
