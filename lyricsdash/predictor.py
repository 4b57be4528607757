"""Classify lyrics with a saved run (and, beside it, the run's best baseline as a second opinion)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace

import pandas as pd
import torch

from .batches import encode
from .evaluate import EvalSet
from .explain import Explanation, explain
from .runs import RunFolder
from .text import UNK_ID, is_mark, read, tokenize

MAX_CHARS = 1_000_000  # longer pastes are cut here before tokenizing


class PredictError(ValueError):
    """Text that cannot be classified, explained."""


@dataclass
class Prediction:
    probabilities: dict[str, float]  # artist -> probability, most likely first
    words: int  # words read (after truncation)
    unknown_words: int  # words read that the model never saw in training (each occurrence counts)
    unknown_distinct: int  # how many different such words
    unknown_examples: list[str]  # up to 20 of them, alphabetical
    truncated: bool  # the text was longer than the model reads (max_len words)
    second_opinion: dict | None = None  # {"method", "artist", "probability"} of the run's best baseline
    spelled: bool = False  # some unknown word still counts, through its character n-grams (context=bag+chars)

    @property
    def artist(self) -> str:
        return next(iter(self.probabilities))

    @property
    def no_known_words(self) -> bool:
        return self.unknown_words == self.words  # also true when the text has no words at all

    @property
    def on_spelling_alone(self) -> bool:
        """No word known, but some read through their character n-grams: a weak answer, not an empty one."""
        return self.no_known_words and self.spelled

    def to_dict(self) -> dict:
        return {"artist": self.artist, "probabilities": self.probabilities, "words": self.words,
                "unknown_words": self.unknown_words, "unknown_distinct": self.unknown_distinct,
                "unknown_examples": self.unknown_examples, "no_known_words": self.no_known_words,
                "on_spelling_alone": self.on_spelling_alone, "truncated": self.truncated,
                "second_opinion": self.second_opinion}


class Predictor:
    def __init__(self, model, vocab, labels, cfg, baseline=None):
        self.model, self.vocab, self.labels, self.cfg = model.eval(), vocab, labels, cfg
        self.baseline = baseline
        # a pasted song is read once for its answer and its explanation alike (thread-safe, a few texts)
        self._read = functools.lru_cache(maxsize=8)(lambda text: read(text, cfg.tokens, cfg.repeats))

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike) -> Predictor:
        folder = RunFolder(run_dir)
        return cls(*folder.load(), baseline=folder.baseline())

    def predict(self, text: str) -> Prediction:
        text = self._check(text)
        return self._predictions([text], [self._read(text).tokens])[0]

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        texts = [self._check(t) for t in texts]
        return self._predictions(texts, [tokenize(t, self.cfg.tokens, self.cfg.repeats) for t in texts])

    def _predictions(self, texts: list[str], token_lists: list[list[str]]) -> list[Prediction]:
        seconds = self._second_opinions(texts)
        return [self._prediction(t, row, second) for t, row, second in
                zip(token_lists, self._log_probs(token_lists).exp().tolist(), seconds, strict=True)]

    def _log_probs(self, token_lists: list[list[str]]) -> torch.Tensor:
        samples = encode(token_lists, None, self.vocab, self.cfg)
        batches = EvalSet(samples, _device(self.model), self.cfg.eval_batch_tokens)  # batched as the run evaluated
        return batches.song_log_probs(self.model)  # (songs, C)

    def explain(self, text: str, artist: str | None = None, against: str | None = None) -> Explanation:
        """Each word's contribution to ``artist`` (default: the predicted one) against ``against`` (default: the
        average artist), by Integrated Gradients (see ``lyricsdash.explain``). The text is read once: the
        explanation carries where each word lies in it, for ``highlight.lyrics_html``."""
        reading = self._read(self._check(text))
        if artist is None:
            artist = self.labels[int(self._log_probs([reading.tokens])[0].argmax())]
        e = explain(self.model, self.vocab, self.labels, self.cfg, reading.tokens, artist, against)
        return replace(e, text=reading.text, spans=reading.spans)

    def classify_frame(self, songs: pd.DataFrame, chunk: int = 256) -> pd.DataFrame:
        """Songs (columns song, text, and artist: empty when unknown) -> one row per song: the predicted
        artist, its probability, each artist's probability, the true artist and whether it was right."""
        rows = []
        for start in range(0, len(songs), chunk):  # bounded memory for big uploads
            part = songs.iloc[start:start + chunk]
            for (_, song), pred in zip(part.iterrows(), self.predict_many(list(part["text"])), strict=True):
                true = str(song.get("artist", "") or "")
                rows.append({"song": song["song"], "artist": true or None, "predicted": pred.artist,
                             "probability": pred.probabilities[pred.artist],
                             "correct": (pred.artist == true) if true else None,
                             **{f"p({a})": pred.probabilities[a] for a in self.labels}})
        return pd.DataFrame(rows)

    def _second_opinions(self, texts: list[str]) -> list[dict | None]:
        if self.baseline is None:
            return [None] * len(texts)
        probs = self.baseline.predict_proba(texts)  # (N, C)
        best = probs.argmax(1)
        return [{"method": self.baseline.label, "artist": self.baseline.classes[j], "probability": float(p[j])}
                for p, j in zip(probs, best, strict=True)]

    def _check(self, text) -> str:
        if not isinstance(text, str) or not text.strip():
            raise PredictError("There is no text to classify: paste the lyrics of a song.")
        return text[:MAX_CHARS]

    def _prediction(self, tokens: list[str], probs: list[float], second: dict | None) -> Prediction:
        seen = tokens[: self.cfg.max_len]
        unknown = [w for w in seen if self.vocab.stoi.get(w, UNK_ID) == UNK_ID]
        ranked = sorted(zip(self.labels, probs, strict=True), key=lambda kv: -kv[1])
        distinct = sorted(set(unknown))
        return Prediction(dict(ranked), len(seen), len(unknown), len(distinct), distinct[:20],
                          len(tokens) > self.cfg.max_len, second,
                          self.model.reads_spelling and not all(map(is_mark, unknown)))


@dataclass
class TableScore:
    """How a classified table (``Predictor.classify_frame``) scores against its own artist column."""

    accuracy: float  # over the songs by artists the model knows
    known: int  # how many such songs
    others: int  # songs with an artist the model was not trained on (left out of the accuracy)
    confusion: pd.DataFrame  # true artist (rows) x predicted artist (columns), the run's labels in order

    def to_dict(self) -> dict:
        return {"accuracy": self.accuracy, "songs": self.known, "other_artists": self.others,
                "labels": list(self.confusion.index), "confusion": self.confusion.to_numpy().tolist()}


def score_table(table: pd.DataFrame, labels: list[str]) -> TableScore | None:
    """Accuracy and confusion matrix of a classified table; None when no song names an artist the model knows."""
    known = table[table["artist"].isin(labels)]
    if known.empty:
        return None
    matrix = pd.crosstab(pd.Categorical(known["artist"], labels), pd.Categorical(known["predicted"], labels),
                         dropna=False)
    matrix.index, matrix.columns = list(labels), list(labels)
    others = int(table["artist"].notna().sum() - len(known))
    return TableScore(float(known["correct"].mean()), len(known), others, matrix)


def _device(model):
    return next(model.parameters()).device
