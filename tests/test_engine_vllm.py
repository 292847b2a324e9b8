"""The ``vllm`` engine adapter, WITHOUT vLLM.

vLLM cannot be installed on this machine (its wheel needs CUDA and pins another torch). These are
shape tests, not runs against vLLM: they check the clear error when vLLM is missing, and the pure
conversion code against small stand-in objects that have the same attributes as vLLM 0.33's
``RequestOutput`` / ``CompletionOutput`` / ``Logprob`` (read from vLLM's source). The last test wires
:class:`VLLMEngine` to a stand-in ``vllm`` module and ``LLM`` object to check which calls it makes
(weight names, prefix-cache reset, sleep/wake order); it says nothing about vLLM's own behaviour.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from rlvr.trainers.engine import EngineError, Sample, SamplingParams, added_vocab, split_stops
from rlvr.trainers.tiny import build_tiny_tokenizer
from rlvr.trainers.vllm_engine import (
    VLLMEngine,
    VLLMUnavailableError,
    import_vllm,
    named_tensors,
    sampled_logprobs,
    samples_from_request_outputs,
    to_vllm_kwargs,
)


# stand-ins with the attributes of vllm.logprobs.Logprob, vllm.outputs.CompletionOutput / RequestOutput
@dataclass
class Logprob:
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: list[dict[int, Logprob]] | None
    finish_reason: str | None = None
    stop_reason: int | str | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    prompt_logprobs: Any
    outputs: list[CompletionOutput]
    finished: bool = True


def test_missing_vllm_error_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` raise ImportError
    with pytest.raises(VLLMUnavailableError) as info:
        import_vllm()
    msg = str(info.value)
    assert 'pip install "rlvr[vllm]"' in msg and "CUDA GPU" in msg and '"hf" engine' in msg
    with pytest.raises(VLLMUnavailableError, match=r"rlvr\[vllm\]"):
        VLLMEngine("Qwen/Qwen2.5-0.5B-Instruct")
    assert issubclass(VLLMUnavailableError, ImportError)


def test_sampling_params_to_vllm_kwargs():
    sp = SamplingParams(temperature=0.7, top_p=0.9, max_new_tokens=64, stop=["\n\n", "</answer>"], stop_token_ids=[7], seed=11)
    assert to_vllm_kwargs(sp, 4, prompt_index=2) == {
        "n": 4, "temperature": 0.7, "top_p": 0.9, "max_tokens": 64, "logprobs": 0,
        "skip_special_tokens": True, "include_stop_str_in_output": False,
        "stop": ["\n\n", "</answer>"], "stop_token_ids": [7], "seed": 19,  # 11 + prompt_index * n
    }
    plain = to_vllm_kwargs(SamplingParams(temperature=0.0, max_new_tokens=8), 1)
    assert plain == {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_tokens": 8, "logprobs": 0,
                     "skip_special_tokens": True, "include_stop_str_in_output": False}
    assert "seed" not in plain and "stop" not in plain
    with pytest.raises(ValueError, match="n"):
        to_vllm_kwargs(SamplingParams(), 0)


def test_every_prompt_and_sample_gets_its_own_seed():
    """vLLM seeds the j-th of a request's n samples with seed + j (parallel_sampling.py,
    _get_child_sampling_params); with seed + i * n per prompt no two (prompt, sample) pairs share a
    seed, so identical prompts in one call do not get duplicated samples."""
    n, prompts = 4, 3
    seeds = [to_vllm_kwargs(SamplingParams(seed=1234), n, prompt_index=i)["seed"] + j for i in range(prompts) for j in range(n)]
    assert len(set(seeds)) == n * prompts


def test_special_token_stop_strings_become_stop_token_ids():
    """vLLM matches stop strings on text decoded without special tokens, where '<|eot_id|>' never
    appears: it is sent as a stop token id instead, the way the hf engine stops on it."""
    tok = build_tiny_tokenizer()  # '<|eot_id|>' is an added token (id 7); '###' is plain text
    added = added_vocab(tok)
    assert split_stops(["###", "<|eot_id|>"], added) == (["###", "<|eot_id|>"], [7])  # (the string is harmless)
    kwargs = to_vllm_kwargs(SamplingParams(stop=["<|eot_id|>", "###"], stop_token_ids=[9]), 1, added=added)
    assert kwargs["stop"] == ["<|eot_id|>", "###"] and kwargs["stop_token_ids"] == [9, 7]
    only_special = to_vllm_kwargs(SamplingParams(stop=["<|eot_id|>"], stop_token_ids=[7]), 1, added=added)
    assert only_special["stop_token_ids"] == [7]


def test_sampled_logprobs_picks_the_sampled_token_among_top_k():
    # logprobs=0: one entry per position; logprobs=2: the sampled token plus the top 2 (may overlap)
    ids = [5, 9, 2]
    lps = [{5: Logprob(-0.1, 1)}, {3: Logprob(-0.5, 1), 9: Logprob(-1.25, 2), 4: Logprob(-2.0, 3)}, {2: Logprob(-3.5, 7)}]
    assert sampled_logprobs(ids, lps) == [-0.1, -1.25, -3.5]
    with pytest.raises(EngineError, match="no logprobs"):
        sampled_logprobs(ids, None)
    with pytest.raises(EngineError, match="position 1 .* sampled token 9"):
        sampled_logprobs(ids, [lps[0], {3: Logprob(-0.5)}, lps[2]])
    with pytest.raises(EngineError, match="2 logprob positions for 3 tokens"):
        sampled_logprobs(ids, lps[:2])


def test_request_outputs_to_samples_in_prompt_and_index_order():
    ros = [
        RequestOutput("0", None, [1, 2], None, [
            # vLLM may hand outputs back out of index order: we sort by index
            CompletionOutput(1, "b", [8, 0], -2.0, [{8: Logprob(-1.5)}, {0: Logprob(-0.5)}], "stop", None),
            CompletionOutput(0, "a</s", [7, 7, 7], -3.0, [{7: Logprob(-1.0)}] * 3, "length", None),
        ]),
        RequestOutput("1", None, [3], None, [
            CompletionOutput(0, "x", [4], -0.25, [{4: Logprob(-0.25)}], "stop", "###"),
            CompletionOutput(1, "y", [6], -0.75, [{6: Logprob(-0.75)}], "stop", 13),
        ]),
    ]
    out = samples_from_request_outputs(ros, 2)
    assert [[s.text for s in g] for g in out] == [["a</s", "b"], ["x", "y"]]
    a, b = out[0]
    assert isinstance(a, Sample) and a.token_ids == [7, 7, 7] and a.logprobs == [-1.0] * 3 and a.truncated
    assert b.token_ids == [8, 0] and b.logprobs == [-1.5, -0.5] and b.finish_reason == "stop"
    assert out[1][0].meta == {"stop_reason": "###"} and out[1][1].meta == {"stop_reason": 13} and a.meta == {}
    with pytest.raises(EngineError, match="2 samples for prompt 0, expected n=3"):
        samples_from_request_outputs(ros, 3)
    aborted = [RequestOutput("0", None, [1], None, [CompletionOutput(0, "", [], None, [], "abort")])]
    with pytest.raises(EngineError, match="abort"):  # an engine failure is never a sample to score
        samples_from_request_outputs(aborted, 1)


def test_named_tensors_strip_wrapper_prefixes():
    lin = torch.nn.Linear(2, 2)
    sd = {"module._orig_mod.model.w": torch.zeros(1), "lm_head.weight": torch.ones(1)}
    assert [n for n, _ in named_tensors(sd)] == ["model.w", "lm_head.weight"]
    assert sorted(n for n, _ in named_tensors(lin)) == ["bias", "weight"]
    with pytest.raises(TypeError, match="state_dict"):
        named_tensors(42)


# ---- wiring, against stand-ins (not vLLM) -----------------------------------------------------------


@dataclass
class _StandInLLM:
    """Records the calls the engine makes; `generate` answers with one stand-in output per sample."""

    calls: list = field(default_factory=list)
    loaded: dict = field(default_factory=dict)

    def get_tokenizer(self):
        return build_tiny_tokenizer()

    def generate(self, prompts, params, use_tqdm=True):
        self.calls.append(("generate", [p["prompt_token_ids"] for p in prompts], [p.kwargs for p in params]))
        return [
            RequestOutput(str(i), None, p["prompt_token_ids"], None, [
                CompletionOutput(j, f"s{j}", [p["prompt_token_ids"][-1] + j], -0.5, [{p["prompt_token_ids"][-1] + j: Logprob(-0.5)}], "stop")
                for j in range(sp.kwargs["n"])
            ])
            for i, (p, sp) in enumerate(zip(prompts, params))
        ]

    def apply_model(self, fn):
        class Model:
            def load_weights(_, weights):
                self.loaded.update(dict(weights))
        self.calls.append(("apply_model",))
        return [fn(Model())]

    def reset_prefix_cache(self):
        self.calls.append(("reset_prefix_cache",))

    def sleep(self, level=1):
        self.calls.append(("sleep", level))

    def wake_up(self, tags=None):
        self.calls.append(("wake_up", tags))


@pytest.fixture
def standin_vllm(monkeypatch):
    class SP:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    fake = types.ModuleType("vllm")
    fake.SamplingParams = SP
    inputs = types.ModuleType("vllm.inputs")
    inputs.TokensPrompt = dict  # a TypedDict in vLLM: a plain dict at runtime
    fake.inputs = inputs
    monkeypatch.setitem(sys.modules, "vllm", fake)
    monkeypatch.setitem(sys.modules, "vllm.inputs", inputs)
    return fake


def test_engine_wiring_against_standins(standin_vllm):
    llm = _StandInLLM()
    eng = VLLMEngine(llm=llm)
    out = eng.generate([[1, 2], [5]], 2, SamplingParams(max_new_tokens=4, seed=3, stop=["<|eot_id|>"]))
    kind, prompts, params = llm.calls[0]
    assert kind == "generate" and prompts == [[1, 2], [5]]
    assert [p["seed"] for p in params] == [3, 5] and all(p["n"] == 2 and p["logprobs"] == 0 for p in params)
    assert all(p["stop_token_ids"] == [7] for p in params)  # through llm.get_tokenizer()
    assert [[s.token_ids for s in g] for g in out] == [[[2], [3]], [[5], [6]]]

    eng.sleep()
    eng.load_weights({"module.model.embed.weight": torch.ones(2)})
    assert set(llm.loaded) == {"model.embed.weight"}
    eng.generate([[1]], 1, SamplingParams(max_new_tokens=2))
    names = [c[0] if c[0] != "wake_up" else ("wake_up", c[1]) for c in llm.calls[1:]]
    assert names == ["sleep", ("wake_up", ["weights"]), "apply_model", "reset_prefix_cache", ("wake_up", None), "generate"]
    with pytest.raises(ValueError, match="prompt 0 has no tokens"):
        eng.generate([[]], 1, SamplingParams())
    eng.close()
    eng.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        eng.generate([[1]], 1, SamplingParams())


def test_vllm_engine_reads_max_model_len_and_caps_max_tokens(standin_vllm):
    params = []

    class LLM:
        llm_engine = types.SimpleNamespace(model_config=types.SimpleNamespace(max_model_len=32))

        def get_tokenizer(self):
            return build_tiny_tokenizer()

        def generate(self, prompts, sps, use_tqdm=False):
            params.extend(sp.kwargs["max_tokens"] for sp in sps)
            raise RuntimeError("stop here")

    engine = VLLMEngine(llm=LLM())
    assert engine.context_length == 32
    with pytest.raises(RuntimeError, match="stop here"):
        engine.generate_capped([[1] * 10, [1] * 30, [1]], 1, SamplingParams(max_new_tokens=16), [16, 16, 4])
    assert params == [16, 2, 4]
    with pytest.raises(ValueError, match="fills vLLM's max_model_len of 32"):
        engine.generate([[1] * 32], 1, SamplingParams())
