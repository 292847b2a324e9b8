"""Subcommands of the `rlvr` CLI, one module each (see rlvr/cli.py)."""
