"""rlvr: reinforcement learning of language models on verifiable rewards."""

__version__ = "0.1.0"
