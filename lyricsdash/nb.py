"""Naive-Bayes-initialised word embeddings.

For C artists, the first C embedding dimensions start as each word's class-centred log P(word | artist)
(with more artists than dimensions, its best low-rank approximation fills them all):
multinomial naive Bayes over per-song word presence (a word counts once per song), add-one smoothed,
computed from the training songs alone. The pad row stays zero; everything is then trained end to end.
Why: on 400 songs an LSTM learned from scratch spends most of its data discovering which words are
artist-specific; this hands it that table on day one (bench/results.md: +6 to +10 points).
"""

from __future__ import annotations

import numpy as np
import torch

from .batches import Samples
from .text import PAD_ID


def nb_log_ratios(samples: Samples, vocab_size: int, num_classes: int) -> torch.Tensor:
    """(V, C): log P(word | class) minus its mean over classes; row PAD_ID is zero.

    ``samples`` are the encoded training songs (their windows are joined back per song: a word counts once
    per song in which the model reads it).
    """
    s, w = _song_word_pairs(samples, vocab_size)
    counts = np.zeros((num_classes, vocab_size))  # (C, V) songs of class c containing word w
    np.add.at(counts, (samples.labels[s], w), 1.0)
    log_p = np.log(counts + 1.0) - np.log(counts.sum(1, keepdims=True) + vocab_size)  # (C, V)
    centred = log_p - log_p.mean(0, keepdims=True)
    centred[:, PAD_ID] = 0.0
    return torch.as_tensor(centred.T, dtype=torch.float32)  # (V, C)


def fit_width(table: torch.Tensor, width: int) -> torch.Tensor:
    """(V, C) -> (V, min(C, width)): the table itself, or its best rank-``width`` approximation's coordinates.

    With more artists than embedding dimensions (643 in the full Kaggle file against the default 64), the
    table cannot be copied; the leading ``width`` singular directions keep most of what tells artists apart
    (and the pad row, all zeros, stays zero).
    """
    if table.shape[1] <= width:
        return table
    u, s, _ = torch.linalg.svd(table, full_matrices=False)  # (V, C), (C,)
    out = u[:, :width] * s[:width]  # (V, width)
    out[(table == 0).all(1)] = 0.0  # the pad row exactly, not to rounding
    return out


@torch.no_grad()
def init_embedding(embedding: torch.nn.Embedding, table: torch.Tensor, scale: float) -> None:
    """Write ``scale * table`` (V, C) into the first C dimensions of ``embedding`` (see ``fit_width``)."""
    table = fit_width(table, embedding.embedding_dim)
    embedding.weight[: table.shape[0], : table.shape[1]] = scale * table.to(embedding.weight.device)


def _song_word_pairs(samples: Samples, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(song, word) index pairs, each once: which words each song contains (its windows joined back)."""
    ids = torch.cat(samples.seqs).numpy() if samples.seqs else np.zeros(0, dtype=np.int64)  # (N_tokens,)
    song = np.repeat(samples.song, samples.lengths)  # (N_tokens,) song of each token
    pairs = np.unique(song * vocab_size + ids)
    return pairs // vocab_size, pairs % vocab_size


def presence(samples: Samples, vocab_size: int):
    """(songs, V) sparse 0/1: which words each song contains (its windows joined back)."""
    from scipy.sparse import csr_matrix

    s, w = _song_word_pairs(samples, vocab_size)
    return csr_matrix((np.ones(len(s)), (s, w)), shape=(samples.n_songs, vocab_size))


def lr_log_ratios(samples: Samples, vocab_size: int, num_classes: int, max_songs: int = 5000, seed: int = 0):
    """(V, C): a multinomial logistic regression's word weights over per-song word presence, centred over
    classes and scaled to the naive-Bayes table's RMS (so ``nb_init`` keeps its meaning); row PAD_ID is zero.

    Why: naive Bayes counts each word's evidence on its own; on 20 artists it scores 41.6 % against
    TF-IDF + LR's 57.4 % (kaggle_dev20), and the embedding starts from what it knows.
    """
    from sklearn.linear_model import LogisticRegression

    x, y = presence(samples, vocab_size), samples.labels
    if x.shape[0] > max_songs:
        keep = np.random.default_rng(seed).choice(x.shape[0], max_songs, replace=False)
        x, y = x[keep], y[keep]
    coef = np.zeros((num_classes, vocab_size))
    present = np.unique(y)
    if len(present) > 1:
        clf = LogisticRegression(C=1.0, max_iter=500).fit(x, y)
        coef[present] = clf.coef_ if len(present) > 2 else np.vstack([-clf.coef_, clf.coef_]) / 2
    centred = coef - coef.mean(0, keepdims=True)
    centred[:, PAD_ID] = 0.0
    nb = nb_log_ratios(samples, vocab_size, num_classes).numpy().T
    scale = np.sqrt((nb ** 2).mean()) / max(np.sqrt((centred ** 2).mean()), 1e-12)
    return torch.as_tensor((scale * centred).T, dtype=torch.float32)  # (V, C)
