"""The installed rlvr version, for fingerprints (read from package metadata, no facade import)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def rlvr_version() -> str:
    try:
        from importlib.metadata import version

        return version("rlvr")
    except Exception:  # not installed as a distribution (running from a source tree)
        return "unknown"
