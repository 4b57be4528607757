"""How good a distillation teacher is at what the LSTM is asked: the 64-token windows, not whole songs.

    python bench/teacher_windows.py                 # the split and kaggle_dev20, seed 0's validation carving

The teacher of ``lyricsdash/teacher.py`` (TF-IDF character 2-5-grams + logistic regression) is fitted on whole
training songs. This fits it on the training songs minus the validation songs, as a run does, and reads the test
songs three ways: whole, window by window (the share of windows right), and as a run predicts a song (the mean
of its windows' log-probabilities). For comparison, the same model fitted on the training *windows* (each with
its song's label). The mean highest probability of a test window says how soft each teacher's targets are.
Writes the 'teacher-windows' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import data_paths, machine, pct, table, write_section

from lyricsdash.batches import split_tokens
from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus, read_songs
from lyricsdash.prepare import class_ids, tokenize_splits
from lyricsdash.teacher import Teacher, feature_counts, kept_columns

HEADER = ["set", "teacher fitted on", "whole test songs", "test windows right", "songs by their windows",
          "mean top probability of a window", "seconds to fit"]


def measure(label: str, train_path, test_path, seed: int) -> list[list]:
    corpus = make_corpus(read_songs(train_path)[0], read_songs(test_path)[0], seed=seed)
    cfg = TrainConfig(seed=seed)
    tokens = tokenize_splits(corpus, cfg, splits=("train", "test"))
    y = {s: np.asarray(class_ids(getattr(corpus, s)["artist"], corpus.labels)) for s in ("train", "test")}
    songs = {s: [t[:cfg.max_len] for t in tokens[s]] for s in y}
    windows = {s: [split_tokens(t, cfg) for t in tokens[s]] for s in y}
    owner = {s: np.repeat(np.arange(len(windows[s])), [len(w) for w in windows[s]]) for s in y}  # window -> song
    flat = {s: [w for song in windows[s] for w in song] for s in y}
    song_f, win_f = {}, {}  # (songs, features), (windows, features) of each split
    song_f["train"], song_f["test"], win_f["train"], win_f["test"] = feature_counts(
        [songs["train"], songs["test"], flat["train"], flat["test"]], "chars")
    cols = kept_columns(song_f["train"])  # both fits read the songs' features
    rows = []
    for fit_on, x, target in (("songs", song_f["train"], y["train"]),
                              ("windows", win_f["train"], y["train"][owner["train"]])):
        t0 = time.perf_counter()
        model = Teacher.fit(x, target, cols)
        seconds = time.perf_counter() - t0
        p = model.predict_proba(win_f["test"])  # (test windows, C)
        whole = model.predict_proba(song_f["test"]).argmax(1)
        logp = np.zeros((len(songs["test"]), p.shape[1]))
        np.add.at(logp, owner["test"], np.log(np.clip(p, 1e-12, 1)))
        rows.append([label, fit_on, pct(np.mean(whole == y["test"])),
                     pct(np.mean(p.argmax(1) == y["test"][owner["test"]])), pct(np.mean(logp.argmax(1) == y["test"])),
                     f"{p.max(1).mean():.3f}", f"{seconds:.1f}"])
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    split = data_paths(None, None)
    dev20 = tuple(split[0].parent / name for name in ("kaggle_dev20_train.csv", "kaggle_dev20_test.csv"))
    rows = measure("split", *split, args.seed)
    if all(path.exists() for path in dev20):
        rows += measure("kaggle_dev20", *dev20, args.seed)
    text = (f"## Teacher-windows\n\n{machine()}  \nThe test songs read by the character teacher (seed {args.seed}'s "
            "validation songs held out of the fit, as in a run; windows of 64 tokens every 16).\n\n"
            + table(HEADER, rows))
    print(text)
    write_section("teacher-windows", text)


if __name__ == "__main__":
    main()
