"""Soft targets for distillation: what a TF-IDF + logistic regression thinks of each training window.

The LSTM overfits its training windows (on kaggle_dev20 they reach about 90 % while test songs stay near
46 %), and each window's one-hot label says nothing of which artists the window resembles. A linear model over
TF-IDF features is a stronger reader on sets this size (character 2-5-grams: 60.4 % there), so its
probabilities are a regulariser that carries information (Hinton et al. 2015; Tang et al. 2019 distil into a
BiLSTM the same way).

The teacher reads each training *sequence* (a window, or the whole song): exactly the words the LSTM reads in
it, so a window of a chorus and a window of a verse get different targets, which one song's label cannot say.

A sequence's probabilities come from a model fitted on the songs of the *other* folds (out-of-fold): a model
fitted on a song predicts its windows almost one-hot, which would teach nothing. Training songs only: the
validation and test songs are never read.

Windows overlap (each word is in about window/stride of them), so the features are counted per distinct token
once and summed: a sequence's counts are (sequences x tokens) @ (tokens x features). This is exact for both
teachers, as character n-grams never cross a space (``char_wb``) and a token is its own feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:  # sklearn is imported where it is used: it costs 1.5 s, and most commands never fit a teacher
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

from .baselines import MAX_SONGS, vectorizer_args
from .batches import split_tokens

FOLDS = 5
CHARS = vectorizer_args("tfidf_chars")  # the char baseline's n-grams, document frequency and feature cap


def soft_targets(songs: list[list[str]], sequences: list[list[list[str]]], y, n_classes: int,
                 teacher: str = "chars", seed: int = 0, progress=lambda teacher, fold, folds: None) -> np.ndarray:
    """(total sequences, C) out-of-fold probabilities of each training sequence, in song order.

    ``songs``: each training song's tokens as read; ``sequences``: each song's sequences (the training windows,
    from ``batches.split_tokens``); ``y``: each song's class id. ``progress(teacher, k, folds)`` hears each fold start.
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    counts = [len(s) for s in sequences]
    probs = np.full((sum(counts), n_classes), 1.0 / n_classes)
    folds = min(FOLDS, int(np.bincount(y, minlength=n_classes).min()))
    if folds < 2:  # an artist with one song: no fold can hold it out, keep the uniform guess
        return probs
    song_f, seq_f = feature_counts([songs, [seq for song in sequences for seq in song]], teacher)
    first = np.concatenate([[0], np.cumsum(counts)])  # song i's sequences are rows first[i]:first[i + 1]
    rng = np.random.default_rng(seed)
    for k, (fit, held) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)):
        progress(teacher, k + 1, folds)
        if len(fit) > MAX_SONGS:  # bounded cost on large sets, as for the baselines (its windows are all taught)
            fit = np.sort(rng.choice(fit, MAX_SONGS, replace=False))
        fit_f = song_f[fit]  # (fit songs, features)
        model = Teacher.fit(fit_f, y[fit], kept_columns(fit_f))
        if model is None:  # no feature shared by two songs: nothing to learn, keep the uniform guess
            continue
        rows = np.concatenate([np.arange(first[i], first[i + 1]) for i in held])
        probs[np.ix_(rows, model.clf.classes_)] = model.predict_proba(seq_f[rows])
    return probs


def teach(songs: list[list[str]], y, n_classes: int, cfg,
          progress=lambda teacher, fold, folds: None) -> np.ndarray | None:
    """``soft_targets`` of the training sequences ``cfg`` cuts from ``songs`` (rows aligned with ``encode``'s), or
    None when the run has no teacher."""
    teacher = cfg.teacher_for(n_classes)
    if teacher is None:
        return None
    return soft_targets([s[:cfg.max_len] for s in songs], [split_tokens(s, cfg) for s in songs], y, n_classes,
                        teacher, cfg.seed, progress)


@dataclass
class Teacher:
    """The teacher's model: TF-IDF over some feature columns of the counts, then a logistic regression."""

    cols: np.ndarray  # the columns of the counts it reads
    tfidf: TfidfTransformer
    clf: LogisticRegression

    @classmethod
    def fit(cls, counts: sparse.csr_matrix, y, cols: np.ndarray) -> Teacher | None:
        """Fitted on (docs, features) ``counts`` with class ids ``y``; None when ``cols`` is empty."""
        if len(cols) == 0:
            return None
        x = counts[:, cols]
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import LogisticRegression

        tfidf = TfidfTransformer(sublinear_tf=True).fit(x)
        return cls(cols, tfidf, LogisticRegression(C=10, max_iter=1000).fit(tfidf.transform(x), y))

    def predict_proba(self, counts: sparse.csr_matrix) -> np.ndarray:
        """(docs, classes seen in the fit, in ``clf.classes_`` order)."""
        return self.clf.predict_proba(self.tfidf.transform(counts[:, self.cols]))


def feature_counts(groups: list[list[list[str]]], teacher: str) -> list[sparse.csr_matrix]:
    """Each group of token lists -> its (docs, features) counts under ``teacher`` ('chars', 'tokens'), every group
    over the same feature columns."""
    index = {t: i for i, t in enumerate(dict.fromkeys(t for docs in groups for doc in docs for t in doc))}
    feats = _features(list(index), teacher)  # (tokens, features)
    return [_bag(docs, index) @ feats for docs in groups]


def kept_columns(counts: sparse.csr_matrix) -> np.ndarray:
    """What TfidfVectorizer keeps with the char baseline's settings (both teachers): the features of at least
    min_df of the documents counted, the max_features most frequent."""
    df = np.asarray((counts > 0).sum(0)).ravel()
    total = np.asarray(counts.sum(0)).ravel()
    keep = np.flatnonzero(df >= CHARS["min_df"])
    return np.sort(keep[np.argsort(-total[keep], kind="stable")[:CHARS["max_features"]]])


def _bag(docs: list[list[str]], index: dict[str, int]) -> sparse.csr_matrix:
    """Token lists -> (docs, tokens) counts."""
    cols = [index[t] for doc in docs for t in doc]
    rows = np.repeat(np.arange(len(docs)), [len(doc) for doc in docs])
    return sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(docs), len(index)))


def _features(tokens: list[str], teacher: str) -> sparse.csr_matrix:
    """(tokens, features): each distinct token's feature counts."""
    if teacher == "tokens":
        return sparse.identity(len(tokens), format="csr")
    if teacher == "chars":
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(analyzer=CHARS["analyzer"], ngram_range=CHARS["ngram_range"]).fit_transform(tokens)
    raise ValueError(f"unknown teacher {teacher!r}")
