"""Audit 30: new weights that leave some of vLLM's parameters unloaded are an engine error, not a
silent partial update (vLLM itself is not installed here: the model is a torch module whose
`load_weights` reports what it loaded, as vLLM's models do)."""

from __future__ import annotations

import pytest
import torch

from rlvr.trainers.engine import EngineError
from rlvr.trainers.vllm_engine import VLLMEngine, load_all_weights
import test_engine_vllm
from test_engine_vllm import _StandInLLM

standin_vllm = test_engine_vllm.standin_vllm  # the fixture: a stand-in `vllm` module


class _ReportingModel(torch.nn.Module):
    """Loads `(name, tensor)` pairs into its parameters of the same name and returns the set of
    names it loaded (vLLM's `load_weights` contract)."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(4, 2)
        self.norm = torch.nn.LayerNorm(2)

    def load_weights(self, weights):
        params, loaded = dict(self.named_parameters()), set()
        for name, tensor in weights:
            if name in params:
                params[name].data.copy_(tensor)
                loaded.add(name)
        return loaded


class _LLMWith(_StandInLLM):
    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def apply_model(self, fn):
        return [fn(self.model)]


def test_a_partial_update_names_the_stale_parameters(standin_vllm):
    model = _ReportingModel()
    engine = VLLMEngine(llm=_LLMWith(model))
    whole = {name: torch.full_like(p, 3.0) for name, p in model.state_dict().items()}
    engine.load_weights(whole)  # every parameter: no error, all new
    assert all(bool((p == 3.0).all()) for p in model.parameters())
    with pytest.raises(EngineError, match=r"left 2 of vLLM's parameters unloaded \(norm\.bias, norm\.weight\)"):
        engine.load_weights({"module.embed.weight": torch.zeros(4, 2)})
    with pytest.raises(EngineError, match="left 3 of"):  # names that match nothing load nothing
        engine.load_weights({"model.embed_tokens.weight": torch.zeros(4, 2)})


class _BuildsAfterLoading:
    """Like vLLM's UnquantizedLinearMethod: a quant method with a post-loading hook."""

    def process_weights_after_loading(self, layer):
        pass


def test_parameters_a_quant_method_builds_and_unreporting_models_are_not_asked_for():
    model = _ReportingModel()
    model.norm.quant_method = _BuildsAfterLoading()
    assert load_all_weights(model, [("embed.weight", torch.zeros(4, 2))]) == ([], frozenset({"embed.weight"}))
    del model.norm.quant_method
    assert load_all_weights(model, [("embed.weight", torch.zeros(4, 2))])[0] == ["norm.bias", "norm.weight"]
    model.load_weights = lambda weights: None  # an older vLLM model: nothing to check against
    assert load_all_weights(model, []) == ([], None)


def test_a_later_update_must_load_every_parameter_the_first_one_loaded(standin_vllm):
    # as in an unquantized vLLM model, the layers' quant method exempts them from vLLM's own check:
    # only the comparison with the first update's loaded names sees a partial later update
    model = _ReportingModel()
    model.embed.quant_method = _BuildsAfterLoading()
    engine = VLLMEngine(llm=_LLMWith(model))
    whole = {name: torch.full_like(p, 2.0) for name, p in model.state_dict().items()}
    engine.load_weights(whole)
    engine.load_weights(whole)  # the same names again: fine
    with pytest.raises(EngineError, match=r"left 1 of vLLM's parameters unloaded \(embed\.weight\)"):
        engine.load_weights({"norm.weight": torch.ones(2), "norm.bias": torch.zeros(2)})
