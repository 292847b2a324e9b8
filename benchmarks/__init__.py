"""rlvr.benchmarks"""
