"""Numbers about a corpus and a config, shown before training (Data and Train pages)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from .batches import bucket_batches, song_bag
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
    tokens = tokenize_splits(corpus, cfg)
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


def measure_tokens_per_s(cfg: TrainConfig, vocab_size: int, num_classes: int, seq_len: int, steps: int = 4) -> float:
    """Training tokens/s of ``cfg``'s model on this machine now: the engine's own step on random batches."""
    import time

    import torch

    from .engine import auto_threads, make_optimizer, train_step

    torch.set_num_threads(cfg.threads or auto_threads())
    gen = torch.Generator().manual_seed(0)
    model = LyricsLSTM(ModelSpec.from_config(cfg, vocab_size, num_classes))
    opt, sched = make_optimizer(model, cfg, 100)
    b, t = cfg.batch_size, max(1, seq_len)
    tokens = torch.randint(2, max(3, vocab_size), (b, t), generator=gen)  # (B, T)
    lengths, y = torch.full((b,), t), torch.randint(0, num_classes, (b,), generator=gen)
    bags = [song_bag(row, _some_grams(cfg, vocab_size, gen)) for row in tokens]  # a row's song: its window's words
    train_step(model, opt, sched, tokens, lengths, y, cfg, bags=bags)  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        train_step(model, opt, sched, tokens, lengths, y, cfg, bags=bags)
    return steps * b * t / (time.perf_counter() - t0)


def _some_grams(cfg: TrainConfig, vocab_size: int, gen):
    """Random n-gram bag ids, as many as a song has with context=bag+chars (about 1,000 on kaggle_dev20:
    9.4 per distinct word), else none."""
    import torch

    if not cfg.char_buckets_read:
        return torch.zeros(0, dtype=torch.long)
    return vocab_size + torch.randint(cfg.char_buckets_read, (1000,), generator=gen)


# the distillation teacher's cost per training sequence, measured once rather than at each estimate (a fold's fit
# takes seconds): kaggle_dev20, 31.9 s for 15,800 windows on the developers' 2-core machine (bench/results.md ideas14)
TEACHER_S_PER_SEQUENCE = 31.9 / 15_800


def estimate_seconds(cfg: TrainConfig, info: dict, num_classes: int) -> tuple[float, float]:
    """(estimated wall-clock seconds of training, measured tokens/s): the training tokens over this machine's
    measured speed, plus a quarter for evaluation (the automatic cadence took 1.21-1.27 times an epoch-end-only
    run on the assignment: bench/results.md, section eval-cost), plus ``teacher_seconds``."""
    seq_len = max(1, round(info["train_tokens"] / max(1, info["train_sequences"])))
    tps = measure_tokens_per_s(cfg, info["vocab_size"], num_classes, seq_len)
    train_s = info["train_tokens"] * cfg.epochs / tps
    return 1.25 * train_s + teacher_seconds(cfg, info, num_classes), tps


def teacher_seconds(cfg: TrainConfig, info: dict, num_classes: int) -> float:
    """Estimated seconds of fitting the distillation teacher before the first step (0 without one)."""
    return TEACHER_S_PER_SEQUENCE * info["train_sequences"] if cfg.teacher_for(num_classes) else 0.0


def per_artist_scores(table: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Precision, recall, F1 and test songs per artist, from a run's test predictions."""
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, n = precision_recall_fscore_support(table["artist"], table["predicted"], labels=labels,
                                                 zero_division=0)
    return pd.DataFrame({"precision": p, "recall": r, "F1": f, "songs": n}, index=pd.Index(labels, name="artist"))
