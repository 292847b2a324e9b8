"""rlvr.trainers"""
