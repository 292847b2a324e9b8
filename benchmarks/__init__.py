"""rlvr.benchmarks: pass@k evaluation on standard sets, with any engine or on saved completions.

    import rlvr.benchmarks as rb
    rb.pass_at_k(n=16, c=3, k=4)                        # the unbiased estimator
    rb.evaluate_completions("humaneval", "samples.jsonl", "out/", ks=[1, 2], data="humaneval.jsonl")
    rb.register_benchmark("countdown-200", "rlvr/Countdown-v0", size=200)

The command line is `rlvr eval` and `rlvr benchmarks list`; see docs/benchmarks.md.
"""

from rlvr.benchmarks.estimators import aggregate, maj_at_k, maj_at_ks, mean_accuracy, parse_ks, pass_at_k, pass_hat_k

__all__ = ["pass_at_k", "pass_hat_k", "maj_at_k", "maj_at_ks", "mean_accuracy", "aggregate", "parse_ks",
           "Benchmark", "register_benchmark", "get_benchmark", "all_benchmarks", "load_benchmark",
           "evaluate_completions", "evaluate_engine", "score_references", "BenchmarkDataError"]


def __getattr__(name: str):
    # the registry and the runner import datasets/gymnasium; load them only when asked for
    if name in ("Benchmark", "register_benchmark", "get_benchmark", "all_benchmarks", "load_benchmark"):
        from rlvr.benchmarks import registry

        return getattr(registry, name)
    if name == "BenchmarkDataError":
        from rlvr.benchmarks.data import BenchmarkDataError

        return BenchmarkDataError
    if name in ("evaluate_completions", "evaluate_engine", "score_references"):
        from rlvr.benchmarks import evaluate

        return getattr(evaluate, name)
    raise AttributeError(f"module 'rlvr.benchmarks' has no attribute {name!r}")
