"""Why repeats=once: readers that count every position, with every line read or each distinct line once.

    python bench/repeats.py            # kaggle_dev20, cased words + punctuation; writes the 'repeats' section

Linear models (logistic regression, C=10) on the songs' term frequencies (l2-normalised, no idf), on TF-IDF with
sublinear tf (the baseline), and on TF-IDF of 64-token windows every 16 scored by their mean log-probability (the
LSTM's framing); and a neural bag of words (NB-initialised 64-wide embeddings, mean-pooled, dropout 0.5, AdamW,
8 epochs over the engine's own windows, seed 0). The test set is only scored.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from _common import data_paths, machine, pct, table, write_section
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from lyricsdash.batches import bucket_batches, collate, split_ids
from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus, read_songs
from lyricsdash.evaluate import EvalSet
from lyricsdash.nb import init_embedding, nb_log_ratios
from lyricsdash.prepare import prepare
from lyricsdash.text import tokenize

DEV20 = ("kaggle_dev20_train.csv", "kaggle_dev20_test.csv")
KIND = "cased+punct"


def linear(train_tokens, y_train, test_tokens, y_test, **vectorizer) -> float:
    vec = TfidfVectorizer(analyzer=lambda toks: toks, **vectorizer)
    clf = LogisticRegression(C=10, max_iter=3000).fit(vec.fit_transform(train_tokens), y_train)
    return float((clf.predict(vec.transform(test_tokens)) == y_test).mean())


def windowed(train_tokens, y_train, test_tokens, y_test) -> float:
    """TF-IDF + LR on 64-token windows every 16; a song is its windows' mean log-probability."""
    def windows(toks):
        return split_ids(toks, "windows", 10**9, 64, 16)

    xs, ys = zip(*[(w, y) for toks, y in zip(train_tokens, y_train, strict=True) for w in windows(toks)],
                  strict=True)
    vec = TfidfVectorizer(analyzer=lambda toks: toks, sublinear_tf=True, min_df=2)
    clf = LogisticRegression(C=10, max_iter=2000).fit(vec.fit_transform(xs), np.asarray(ys))
    pred = [clf.predict_log_proba(vec.transform(windows(t))).mean(0).argmax() for t in test_tokens]
    return float((clf.classes_[pred] == y_test).mean())


class Bag(torch.nn.Module):
    def __init__(self, vocab_size: int, classes: int, dim: int = 64):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab_size, dim, padding_idx=0)
        self.drop, self.head = torch.nn.Dropout(0.5), torch.nn.Linear(dim, classes)

    def forward(self, tokens, lengths, bags=None):  # (B, T), (B,) -> (B, C); reads no song context
        mask = (tokens != 0).float()[..., None]  # (B, T, 1)
        return self.head((self.drop(self.emb(tokens)) * mask).sum(1) / lengths[:, None])


def neural_bag(corpus, repeats: str, epochs: int = 8) -> float:
    torch.manual_seed(0)
    data = prepare(corpus, TrainConfig(repeats=repeats))
    model = Bag(len(data.vocab), len(data.labels))
    init_embedding(model.emb, nb_log_ratios(data.train, len(data.vocab), len(data.labels)), 1.0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    labels, rng = torch.as_tensor(data.train.labels[data.train.song]), random.Random(0)
    for _ in range(epochs):
        for idx in bucket_batches(data.train.lengths, 32, rng):
            tokens, lengths = collate([data.train.seqs[i] for i in idx])
            loss = F.cross_entropy(model(tokens, lengths), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.temperature = torch.ones(())  # EvalSet divides by it
    return EvalSet(data.test, torch.device("cpu")).evaluate(model)[1]


def main() -> None:
    torch.set_num_threads(1)
    folder = Path(data_paths(None, None)[0]).parent
    train_df, test_df = (read_songs(folder / name)[0] for name in DEV20)
    corpus = make_corpus(train_df, test_df, seed=0)
    y_train, y_test = train_df["artist"].to_numpy(), test_df["artist"].to_numpy()
    rows = []
    for repeats in ("all", "once"):
        t0 = time.perf_counter()
        tr, te = ([tokenize(t, KIND, repeats) for t in df["text"]] for df in (train_df, test_df))
        row = [f"repeats={repeats}", f"{sum(map(len, tr)):,}",
               pct(linear(tr, y_train, te, y_test, use_idf=False)),
               pct(linear(tr, y_train, te, y_test, sublinear_tf=True)), pct(windowed(tr, y_train, te, y_test)),
               pct(neural_bag(corpus, repeats)), f"{time.perf_counter() - t0:.0f}"]
        rows.append(row)
        print(row, flush=True)
    body = (f"## Repeats\n\n`bench/repeats.py`, kaggle_dev20 ({len(train_df)} / {len(test_df)} songs), tokens "
            f"{KIND}, one run each. Machine: {machine()}\n\n"
            + table(["lines read", "training tokens", "LR on tf (l2, no idf)", "TF-IDF sublinear + LR",
                     "TF-IDF + LR on windows 64/16", "neural bag of words (windows)", "seconds"], rows))
    print(body)
    write_section("repeats", body)


if __name__ == "__main__":
    main()
