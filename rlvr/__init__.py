"""rlvr: reinforcement learning of language models on verifiable rewards.

`import rlvr` registers the built-in environments with Gymnasium under "rlvr/":

    import rlvr
    env = rlvr.make("rlvr/Countdown-v0", format="compact")      # or gymnasium.make(...)
    rlvr.register("rlvr/MyTask-v0", dataset="train.jsonl", question_key="q", answer_key="a",
                  verifier="math")
"""

from rlvr.envs.registry import make, register, register_builtin, registered_ids

__version__ = "0.1.0"

__all__ = ["make", "register", "registered_ids", "__version__"]

register_builtin()
