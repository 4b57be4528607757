"""The bar the LSTM has to clear: majority class and TF-IDF + logistic regression, fitted in seconds.

Fitted on the same training songs the LSTM learns from and scored on the same validation and test songs.
The best of them by *validation* accuracy (the test set never chooses) is kept as plain data (vocabulary,
idf, coefficients; no pickle) so that Classify can show its answer as a second opinion.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from .data import Corpus
from .text import GRAM_SIZES, TOKEN_KINDS, tokenize

NAMES = {"majority": "majority class", "tfidf_words": "TF-IDF lower-case words + LR",
         "tfidf_tokens": "TF-IDF on the LSTM's tokens + LR", "tfidf_chars": "TF-IDF chars 2-5 + LR"}
TOKEN_LABELS = {"words+punct": "TF-IDF words + punctuation + LR",
                "cased+punct": "TF-IDF cased words + punctuation + LR"}
MAX_SONGS = 5_000  # larger training sets are subsampled (stratified by artist) for the baselines


def vectorizer_args(name: str, tokens: str = "words") -> dict:
    """TfidfVectorizer settings: the classic lower-case words, the run's own tokens, or character n-grams."""
    if name == "tfidf_chars":
        return dict(analyzer="char_wb", ngram_range=(GRAM_SIZES.start, GRAM_SIZES.stop - 1), sublinear_tf=True,
                    min_df=2, max_features=100_000)
    kind = tokens if name == "tfidf_tokens" else "words"
    return dict(analyzer="word", tokenizer=lambda text: tokenize(text, kind), token_pattern=None, lowercase=False,
                sublinear_tf=True, max_features=50_000)


def baseline_names(tokens: str) -> list[str]:
    """The TF-IDF baselines a run fits: the run's own tokens join the classic two when they differ."""
    return ["tfidf_words", *(["tfidf_tokens"] if tokens != "words" else []), "tfidf_chars"]


def label(name: str, tokens: str = "words") -> str:
    return TOKEN_LABELS.get(tokens, NAMES[name]) if name == "tfidf_tokens" else NAMES[name]


def subsample(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """At most ``n`` rows, the same share of each artist (every artist keeps at least one song)."""
    if len(df) <= n:
        return df
    frac = n / len(df)
    parts = [g.sample(max(1, round(len(g) * frac)), random_state=seed) for _, g in df.groupby("artist", sort=True)]
    return pd.concat(parts)


def fit_baselines(corpus: Corpus, seed: int = 0, keep_model: bool = False, tokens: str = "words"):
    """-> {name: {"label", "val_acc", "test_acc", "seconds"}}; with ``keep_model`` also the best TF-IDF model.

    The word baselines: the classic lower-case words, and (when ``tokens`` differs) the LSTM's own tokens, so
    that the bar rises with what the LSTM reads.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train = subsample(corpus.train, MAX_SONGS, seed)
    majority = train["artist"].value_counts().sort_index().idxmax()
    out = {"majority": {"label": NAMES["majority"], "seconds": 0.0,
                        **{f"{s}_acc": _acc([majority] * len(df), df) for s, df in (("val", corpus.val),
                                                                                     ("test", corpus.test))}}}
    models = {}
    for name in baseline_names(tokens):
        t = time.perf_counter()
        vec = TfidfVectorizer(**vectorizer_args(name, tokens))
        x = vec.fit_transform(train["text"])
        clf = LogisticRegression(C=10, max_iter=1000).fit(x, train["artist"])
        scores = {f"{s}_acc": _acc(clf.predict(vec.transform(df["text"])), df) if len(df) else float("nan")
                  for s, df in (("val", corpus.val), ("test", corpus.test))}
        out[name] = {"label": label(name, tokens), **scores, "seconds": time.perf_counter() - t}
        models[name] = (vec, clf)
    if not keep_model:
        return out
    best = max(models, key=lambda n: (np.nan_to_num(out[n]["val_acc"], nan=-1.0), n == "tfidf_words"))
    return out, BaselineModel.from_sklearn(best, *models[best], tokens=tokens)


def _acc(pred, df: pd.DataFrame) -> float:
    return float(np.mean(np.asarray(pred) == df["artist"].to_numpy())) if len(df) else float("nan")


class BaselineModel:
    """A fitted TF-IDF + LR as plain tensors and strings: saved with torch.save, loaded with weights_only=True."""

    def __init__(self, name: str, terms: list[str], idf: torch.Tensor, coef: torch.Tensor, intercept: torch.Tensor,
                 classes: list[str], tokens: str = "words"):
        self.name, self.terms, self.idf, self.coef, self.intercept, self.classes = \
            name, terms, idf, coef, intercept, classes
        self.tokens = tokens  # the run's tokens (TrainConfig.tokens): what tfidf_tokens reads
        self._vec = None  # built on first use, then reused: rebuilding its vocabulary costs milliseconds

    @classmethod
    def from_sklearn(cls, name: str, vec, clf, tokens: str = "words") -> BaselineModel:
        terms = [t for t, _ in sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])]
        coef, intercept = clf.coef_, clf.intercept_
        if coef.shape[0] == 1:  # two classes: sklearn keeps one row; expand to one per class
            coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
        return cls(name, terms, torch.as_tensor(vec.idf_, dtype=torch.float32),
                   torch.as_tensor(coef, dtype=torch.float32), torch.as_tensor(intercept, dtype=torch.float32),
                   [str(c) for c in clf.classes_], tokens)

    def to_blob(self) -> dict:
        return {"format": 1, "name": self.name, "terms": self.terms, "idf": self.idf, "coef": self.coef,
                "intercept": self.intercept, "classes": self.classes, "tokens": self.tokens}

    @classmethod
    def from_blob(cls, blob: dict) -> BaselineModel:
        tokens = blob.get("tokens", "words")  # saved before runs chose their tokens: plain words
        if blob.get("format") != 1 or blob.get("name") not in NAMES or blob["name"] == "majority" \
                or tokens not in TOKEN_KINDS:
            raise ValueError("unknown baseline format")
        return cls(blob["name"], list(blob["terms"]), blob["idf"], blob["coef"], blob["intercept"],
                   list(blob["classes"]), tokens)

    def _vectorizer(self):
        if self._vec is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            kw = {k: v for k, v in vectorizer_args(self.name, self.tokens).items()
                  if k not in ("max_features", "min_df")}
            self._vec = TfidfVectorizer(**kw, vocabulary={t: i for i, t in enumerate(self.terms)})
            self._vec.idf_ = self.idf.numpy().astype(np.float64)
            self._coef = self.coef.numpy().T.astype(np.float64)  # (features, C)
        return self._vec

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """(N, C) probabilities, columns in ``self.classes`` order."""
        x = self._vectorizer().transform(texts)
        logits = x @ self._coef + self.intercept.numpy()
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)

    @property
    def label(self) -> str:
        return label(self.name, self.tokens)
