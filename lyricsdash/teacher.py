"""Soft targets for distillation: what a TF-IDF + logistic regression thinks of each training song.

The LSTM overfits its training windows (on kaggle_dev20 they reach about 90 % while test songs stay near
46 %), and each window's one-hot label says nothing of which artists a song resembles. A linear model over
the whole song's tokens is a stronger reader on sets this size (57.4 % there), so its probabilities are a
regulariser that carries information (Hinton et al. 2015; Tang et al. 2019 distil into a BiLSTM the same way).

The probabilities of a training song come from a model fitted on the *other* folds (out-of-fold): a model
fitted on a song predicts it almost one-hot, which would teach nothing. Training songs only: the validation
and test songs are never read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from .baselines import vectorizer_args

FOLDS = 5


def soft_targets(train: pd.DataFrame, labels: list[str], tokens: str, seed: int = 0) -> np.ndarray:
    """(songs, C) out-of-fold probabilities of each training song's artist, columns in ``labels`` order."""
    y = np.asarray([labels.index(a) for a in train["artist"]])
    texts = train["text"].to_numpy()
    probs = np.full((len(train), len(labels)), 1.0 / len(labels))
    folds = min(FOLDS, int(np.bincount(y, minlength=len(labels)).min()))
    if folds < 2:  # an artist with one song: no fold can hold it out, keep the uniform guess
        return probs
    for fit, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y):
        vec = TfidfVectorizer(**vectorizer_args("tfidf_tokens", tokens))  # the baseline on the run's tokens
        clf = LogisticRegression(C=10, max_iter=1000).fit(vec.fit_transform(texts[fit]), y[fit])
        probs[np.ix_(held, clf.classes_)] = clf.predict_proba(vec.transform(texts[held]))
    return probs
