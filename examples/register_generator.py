"""Register a procedural task (no download) from a generator function, then run one episode.

Run: python examples/register_generator.py
"""

import rlvr


@rlvr.register("rlvr/Multiply-v0", verifier="exact", generator_settings={"high": 12})
def multiply(rng, high=9):
    """One task: `rng` is a numpy Generator; return the question and the gold answer."""
    a, b = (int(v) for v in rng.integers(2, high + 1, size=2))
    return {"question": f"{a}*{b}=", "answer": str(a * b)}


env = rlvr.make("rlvr/Multiply-v0")
prompt, info = env.reset(seed=0)
print("prompt:", prompt)
a, b = prompt[:-1].split("*")
_, reward, *_, info = env.step(str(int(a) * int(b)))
print("reward:", reward, "|", info["verdict"].reason)

# Built-in procedural tasks take difficulty settings and a compact format for tiny models:
env = rlvr.make("rlvr/Countdown-v0", count=3, max_number=9, format="compact")
print(env.reset(seed=0)[0])
