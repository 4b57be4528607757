"""Numbers about a corpus and a config, shown before training (Data and Train pages)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from .batches import bucket_batches
from .config import TrainConfig
from .data import Corpus
from .model import LyricsLSTM, ModelSpec, count_parameters, describe
from .prepare import prepare, tokenize_splits
from .text import UNK_ID


def preview(corpus: Corpus, cfg: TrainConfig) -> dict:
    """Vocabulary size, parameter count, architecture and steps of ``cfg`` on ``corpus``, without training."""
    data = prepare(corpus, cfg)
    model = LyricsLSTM(ModelSpec.from_config(cfg, len(data.vocab), len(corpus.labels)))
    sequences = len(data.train.seqs)
    steps = -(-sequences // cfg.batch_size)
    return {"vocab_size": len(data.vocab), "params": count_parameters(model), "architecture": describe(model),
            "train_sequences": sequences, "train_tokens": data.train.n_tokens, "steps_per_epoch": steps,
            "total_steps": steps * cfg.epochs}


def data_stats(corpus: Corpus, cfg: TrainConfig) -> dict:
    """Songs per artist, words per song, padding wasted per batch, test vocabulary coverage."""
    tokens = tokenize_splits(corpus)
    data = prepare(corpus, cfg, tokens)
    counts = pd.DataFrame({split: df["artist"].value_counts() for split, df in
                           (("train", corpus.train), ("validation", corpus.val), ("test", corpus.test))})
    test_ids = [i for toks in tokens["test"] for i in data.vocab.encode(toks)]
    seq_lengths = data.train.lengths
    return {"songs_per_artist": counts.fillna(0).astype(int).sort_index(),
            "words_per_song": np.array([len(t) for t in tokens["train"]]), "vocab_size": len(data.vocab),
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
