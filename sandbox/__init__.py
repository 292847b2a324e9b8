"""rlvr.sandbox"""
