"""Numbers about a corpus and a config, shown before training (Data and Train pages)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from .batches import bucket_batches, encode
from .cache import tokenize_many
from .config import TrainConfig
from .data import Corpus
from .engine import model_spec
from .model import LyricsLSTM, count_parameters, describe
from .text import UNK_ID, Vocab


def preview(corpus: Corpus, cfg: TrainConfig) -> dict:
    """Vocabulary size, parameter count, architecture and steps of ``cfg`` on ``corpus``, without training."""
    tokens = tokenize_many(corpus.train["text"])
    vocab = Vocab.build(tokens, cfg.min_freq, cfg.max_vocab)
    model = LyricsLSTM(model_spec(cfg, len(vocab), len(corpus.labels)))
    sequences = len(encode(tokens, None, vocab, cfg).seqs)
    steps = -(-sequences // cfg.batch_size)
    return {"vocab_size": len(vocab), "params": count_parameters(model), "architecture": describe(model),
            "train_sequences": sequences, "steps_per_epoch": steps, "total_steps": steps * cfg.epochs}


def data_stats(corpus: Corpus, cfg: TrainConfig) -> dict:
    """Songs per artist, words per song, padding wasted per batch, test vocabulary coverage."""
    train_tokens = tokenize_many(corpus.train["text"])
    test_tokens = tokenize_many(corpus.test["text"])
    vocab = Vocab.build(train_tokens, cfg.min_freq, cfg.max_vocab)
    counts = pd.DataFrame({split: df["artist"].value_counts() for split, df in
                           (("train", corpus.train), ("validation", corpus.val), ("test", corpus.test))})
    test_ids = [i for toks in test_tokens for i in vocab.encode(toks)]
    lengths = np.array([len(t) for t in train_tokens])
    seq_lengths = encode(train_tokens, None, vocab, cfg).lengths
    return {"songs_per_artist": counts.fillna(0).astype(int).sort_index(), "words_per_song": lengths,
            "vocab_size": len(vocab),
            "test_coverage": 1 - (np.mean(np.asarray(test_ids) == UNK_ID) if test_ids else 0.0),
            "padding_bucketed": padding_share(seq_lengths, cfg.batch_size, bucketed=True),
            "padding_unsorted": padding_share(seq_lengths, cfg.batch_size, bucketed=False)}


def padding_share(lengths: np.ndarray, batch_size: int, bucketed: bool, seed: int = 0) -> float:
    """Share of computed positions that are padding over one epoch of batches."""
    if bucketed:
        batches = bucket_batches(lengths, batch_size, random.Random(seed))
    else:
        order = np.random.default_rng(seed).permutation(len(lengths))
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    real = sum(int(lengths[b].sum()) for b in batches)
    computed = sum(int(lengths[b].max()) * len(b) for b in batches)
    return 1 - real / computed if computed else 0.0
