"""Corpus + config -> what training reads: the vocabulary and the encoded splits (the one data preparation).

The training loop, the Train page's preview, the Data page's statistics and the benchmarks all call this, so
that they see exactly the same vocabulary and sequences.
"""

from __future__ import annotations

from dataclasses import dataclass

from .batches import Samples, encode
from .cache import tokenize_many
from .config import TrainConfig
from .data import Corpus
from .text import Vocab

SPLITS = ("train", "val", "test")


@dataclass
class Prepared:
    vocab: Vocab  # built from the training songs only
    labels: list[str]  # artist names; the index is the class id
    train: Samples
    val: Samples
    test: Samples


def tokenize_splits(corpus: Corpus, cfg: TrainConfig, splits=SPLITS, cache: bool = True) -> dict[str, list[list[str]]]:
    """Each split's songs as the token lists ``cfg`` reads (through the on-disk cache for large corpora, unless
    ``cache`` is off)."""
    limit = {} if cache else {"min_chars": float("inf")}
    return {name: tokenize_many(getattr(corpus, name)["text"], cfg.tokens, cfg.repeats, **limit) for name in splits}


def class_ids(artists, labels: list[str]) -> list[int]:
    index = {a: i for i, a in enumerate(labels)}
    return [index[a] for a in artists]


def prepare(corpus: Corpus, cfg: TrainConfig, tokens: dict[str, list[list[str]]] | None = None) -> Prepared:
    """Build the vocabulary from the training songs and encode every split under ``cfg``'s length strategy."""
    tokens = tokens or tokenize_splits(corpus, cfg)
    vocab = Vocab.build(tokens["train"], cfg.min_freq, cfg.max_vocab)
    enc = {name: encode(tokens[name], class_ids(getattr(corpus, name)["artist"], corpus.labels), vocab, cfg)
           for name in SPLITS}
    return Prepared(vocab, list(corpus.labels), enc["train"], enc["val"], enc["test"])
