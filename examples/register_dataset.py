"""Register your own question/answer dataset as a Gymnasium environment, then run one episode.

Run: python examples/register_dataset.py
"""

import json
import tempfile
from pathlib import Path

import rlvr

# A local JSONL file with your own column names (a hub id like "openai/gsm8k" works the same way).
path = Path(tempfile.mkdtemp()) / "fractions.jsonl"
path.write_text("\n".join(json.dumps(row) for row in [
    {"q": "What is 1/2 + 1/4?", "a": "3/4"},
    {"q": "What is 2/3 of 9?", "a": "6"},
]))

rlvr.register(
    "rlvr/Fractions-v0",
    dataset=str(path),
    question_key="q",
    answer_key="a",
    verifier="math",                                   # or "code", "exact", or fn(gold, completion)
    prompt="{question}\nPut the final answer in \\boxed{{}}.",
)

env = rlvr.make("rlvr/Fractions-v0")                  # or gymnasium.make(...)
prompt, info = env.reset(options={"index": 0})
print("prompt:", prompt)
_, reward, terminated, truncated, info = env.step("1/2 + 1/4 = 3/4, so \\boxed{0.75}")
print("reward:", reward, "|", info["verdict"].reason)
print("fingerprint:", info["fingerprint"]["data"])
