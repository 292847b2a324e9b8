"""rlvr.trainers: GRPO/DAPO-family reinforcement learning on verifiable rewards.

Where to start:

- `rlvr.trainers.config.load_config(path, overrides)` reads a YAML config (`configs/demo.yaml`)
  into a validated `Config`; `rlvr.trainers.trainer.Trainer(config).train()` runs it (what
  `rlvr train` and `rlvr demo` do), writing metrics, plots and checkpoints.
- One training step, top to bottom, is `Trainer.step`; its maths are pure functions in
  `advantages.py`, `losses.py`, `dynamic_sampling.py` and `overlong.py`.
- The set-up and bookkeeping around the loop live in modules of their own: `policy.py` (device,
  dtype, loading the model, AdamW and its LR schedule, the engine), `training_envs.py` (the run's
  envs built and checked from the config), `heldout.py` (the held-out evaluation's tasks) and
  `resume.py` (what a checkpoint holds, how `--resume` restores it and what it refuses).
- Rollouts (`rollout.py`: `RolloutCollector` runs episodes turn by turn) go through a generation
  engine: `hf_engine.HFEngine` (transformers), `vllm_engine.VLLMEngine` (GPU, an adapter over
  vLLM's API), or, for evaluation only, `openai_engine.OpenAIEngine` (any OpenAI-compatible
  server); `engine.py` is their interface. What a rollout returns (`Trajectory`, its errors) is in
  `trajectory.py`; the opening prompt in `opening_prompt.py`; how chat-template text around the
  model's sampled tokens becomes token ids in `chat_tokens.py`; episode turn limits in
  `turn_limits.py`.
- `tiny.py` builds the tiny model and character tokenizer the demo and the tests use.

See the README's Trainers section and docs/engines.md. Nothing is imported here, so importing
`rlvr.trainers` costs nothing until a submodule is used (most need torch).
"""
