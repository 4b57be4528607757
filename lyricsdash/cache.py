"""On-disk cache (joblib.Memory) of tokenized datasets and other slow, derived data.

Tokenizing the full Kaggle file (57,650 songs) takes seconds; retraining on
it with other hyperparameters should not pay that again. Small corpora are
tokenized directly: hashing them costs about as much as tokenizing. The
cache lives in ``$LYRICSDASH_CACHE_DIR`` (default ``~/.cache/lyricsdash``),
never in run folders, which hold plain data only.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import joblib

from .text import tokenize

CACHE_ENV = "LYRICSDASH_CACHE_DIR"
MIN_CHARS = 2_000_000  # corpora smaller than this are not cached


@lru_cache(maxsize=4)
def _memory(location: str) -> joblib.Memory:
    return joblib.Memory(location, verbose=0)


def _tokenize_all(texts: list[str], kind: str = "words", repeats: str = "all") -> list[list[str]]:
    return [tokenize(t, kind, repeats) for t in texts]


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "lyricsdash")


def tokenize_many(texts: list[str], kind: str = "words", repeats: str = "all",
                  min_chars: int = MIN_CHARS) -> list[list[str]]:
    """Tokenize ``texts`` into tokens of ``kind`` (``repeats``: see ``text.tokenize``), through the on-disk
    cache when they are large."""
    texts = list(texts)
    if sum(map(len, texts)) < min_chars:
        return _tokenize_all(texts, kind, repeats)
    return cached(_tokenize_all)(texts, kind, repeats)


def cached(func):
    """``func`` through the on-disk cache (keyed by its code and a hash of its arguments), or called directly
    where the cache cannot be written (read-only or full disk: the cache is an optimisation only)."""
    def call(*args, **kwargs):
        try:
            return _memory(str(cache_dir())).cache(func)(*args, **kwargs)
        except OSError:
            return func(*args, **kwargs)

    return call
