"""Accuracy on three sets: the assignment split (5 seeds), 5-fold CV of it, and kaggle_dev20 (3 seeds).

    python bench/accuracy.py                                   # baselines, the reference design, the default
    python bench/accuracy.py --sets dev20 --seeds 1            # one set
    python bench/accuracy.py --only-variants --section ideas7 --variant "distil=distill=0.5,init_table=lr"

Each engine run also scores a *plain copy* of its test songs (lower-cased, punctuation removed: lyrics as many
sites write them), and reports the test cross-entropy and the wall-clock seconds of ``engine.train`` (one
torch thread, baselines off: they are measured in their own rows). The test set never chooses anything.
The sets are read from $LYRICSDASH_DATA_DIR or ../shared/data (a set whose files are absent is skipped).
Prints tables and writes the 'accuracy' section (or --section) of bench/results.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import data_paths, machine, pct, table, write_section
from reference import encode_all, train_reference
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline

from lyricsdash.config import ConfigError, TrainConfig, parse_overrides
from lyricsdash.data import make_corpus, read_songs
from lyricsdash.engine import train
from lyricsdash.predictor import Predictor
from lyricsdash.text import TOKEN_KINDS, Vocab, plain, tokenize

TFIDF = {**{f"TF-IDF {kind} + LR": dict(analyzer="word", tokenizer=lambda t, k=kind: tokenize(t, k),
                                        token_pattern=None, lowercase=False, sublinear_tf=True)
            for kind in TOKEN_KINDS},
         "TF-IDF char 2-5-grams + LR": dict(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)}
DEV20 = ("kaggle_dev20_train.csv", "kaggle_dev20_test.csv")
HEADER = ["method", "runs", "mean test acc", "min", "max", "plain-copy acc", "test CE", "seconds/run", "params"]


def tfidf_acc(kw, train_df, test_df) -> float:
    clf = make_pipeline(TfidfVectorizer(**kw), LogisticRegression(C=10, max_iter=3000))
    clf.fit(train_df["text"], train_df["artist"])
    return float((clf.predict(test_df["text"]) == test_df["artist"]).mean())


def majority_acc(train_df, test_df) -> float:
    return float((test_df["artist"] == train_df["artist"].value_counts().idxmax()).mean())


def engine_run(train_df, test_df, seed: int, overrides: dict) -> dict:
    """One training of ``overrides`` on its own validation carving (seeded like the run)."""
    corpus = make_corpus(train_df, test_df, seed=seed, val_fraction=float(overrides.get("val_fraction", 0.1)))
    cfg = TrainConfig(seed=seed, **{"baselines": False, "threads": 1, **overrides})
    t = time.perf_counter()
    r = train(corpus, cfg)
    seconds = time.perf_counter() - t
    preds = Predictor(r.model, r.vocab, r.labels, cfg).predict_many([plain(x) for x in corpus.test["text"]])
    plain_acc = float(np.mean([p.artist == a for p, a in zip(preds, corpus.test["artist"], strict=True)]))
    return {"test_acc": r.kept.test_acc, "plain_acc": plain_acc, "test_loss": r.kept.test_loss,
            "seconds": seconds, "params": r.params}


def reference_run(train_df, test_df, seed: int, epochs: int) -> dict:
    corpus = make_corpus(train_df, test_df, seed=seed)
    toks = {k: [tokenize(t) for t in getattr(corpus, k)["text"]] for k in ("train", "val", "test")}
    vocab = Vocab.build(toks["train"], min_freq=1)
    ids = {a: i for i, a in enumerate(corpus.labels)}
    split = {k: (encode_all(toks[k], vocab), [ids[a] for a in getattr(corpus, k)["artist"]]) for k in toks}
    return train_reference(split["train"], split["val"], split["test"], len(corpus.labels), len(vocab), epochs, seed)


def summarize(name: str, runs: list[dict]) -> list:
    accs = [r["test_acc"] for r in runs]

    def mean(key, fmt):
        vals = [r[key] for r in runs if key in r and not math.isnan(r[key])]
        return fmt(statistics.mean(vals)) if vals else ""

    return [name, len(runs), pct(statistics.mean(accs)), pct(min(accs)), pct(max(accs)), mean("plain_acc", pct),
            mean("test_loss", lambda v: f"{v:.2f}"), mean("seconds", lambda v: f"{v:.1f}"),
            f"{runs[0].get('params', '')}"]


def baseline_rows(train_df, test_df) -> list[list]:
    rows = [["majority class", 1, *[pct(majority_acc(train_df, test_df))] * 3, "", "", "0", ""]]
    for name, kw in TFIDF.items():
        t0 = time.perf_counter()
        acc = tfidf_acc(kw, train_df, test_df)
        rows.append([name, 1, pct(acc), pct(acc), pct(acc), "", "", f"{time.perf_counter() - t0:.1f}", ""])
        print(rows[-1], flush=True)
    return rows


def fixed_split(args, label: str, train_df, test_df, seeds: int, reference: int = 0) -> list[list]:
    rows = [] if args.only_variants else baseline_rows(train_df, test_df)
    if reference:
        ref = [reference_run(train_df, test_df, s, args.reference_epochs) for s in range(reference)]
        rows.append(summarize(f"reference design ({args.reference_epochs} epochs)", ref))
    for name, overrides in args.variants.items():
        runs = []
        for s in range(seeds):
            runs.append(engine_run(train_df, test_df, s, overrides))
            print(f"{label} · {name} · seed {s}: test {pct(runs[-1]['test_acc'])}, plain "
                  f"{pct(runs[-1]['plain_acc'])}, {runs[-1]['seconds']:.1f} s", flush=True)
        rows.append(summarize(name, runs))
    return rows


def cross_validation(args, pooled: pd.DataFrame) -> list[list]:
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=0).split(pooled, pooled["artist"])
    tfidf = {} if args.only_variants else TFIDF
    results = {name: [] for name in [*tfidf, *args.variants]}
    for k, (tr, te) in enumerate(folds):
        train_df, test_df = pooled.iloc[tr].reset_index(drop=True), pooled.iloc[te].reset_index(drop=True)
        for name, kw in tfidf.items():
            t0 = time.perf_counter()
            results[name].append({"test_acc": tfidf_acc(kw, train_df, test_df), "seconds": time.perf_counter() - t0})
        for name, overrides in args.variants.items():
            results[name].append(engine_run(train_df, test_df, k, overrides))
        print(f"fold {k}: " + " ".join(f"{n[:30]} {pct(r[-1]['test_acc'])}" for n, r in results.items()), flush=True)
    return [summarize(name, runs) for name, runs in results.items()]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="split,cv,dev20", help="comma-separated: split, cv, dev20")
    p.add_argument("--seeds", type=int, default=5, help="seeds on the assignment split")
    p.add_argument("--dev20-seeds", type=int, default=3)
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds over the split's songs pooled")
    p.add_argument("--reference-seeds", type=int, default=3, help="seeds for the slow reference design (0 = skip)")
    p.add_argument("--reference-epochs", type=int, default=4)
    p.add_argument("--variant", action="append", default=[], metavar="NAME=key=value,key=value",
                   help="an extra engine config to measure (repeatable)")
    p.add_argument("--only-variants", action="store_true", help="measure only the --variant configs")
    p.add_argument("--section", default="accuracy", help="the section of bench/results.md to write")
    args = p.parse_args()
    extra = {}
    for v in args.variant:  # the name ends at the first '=' (so it cannot hold one)
        name, _, kvs = v.partition("=")
        try:
            extra[name] = parse_overrides([kv for kv in kvs.split(",") if kv])
            TrainConfig.from_dict(extra[name])  # checked now, not after an hour of other runs
        except ConfigError as e:
            p.error(f"--variant {v!r}: {e}")
    args.variants = extra if args.only_variants else {"lyricsdash default": {}, **extra}
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    return args


def main() -> None:
    args = parse_args()
    train_path, test_path = data_paths(None, None)
    train_df, test_df = read_songs(train_path)[0], read_songs(test_path)[0]
    out = [f"## {args.section.capitalize()}\n\nMachine: {machine()}  \nEngine configs: "
           + "; ".join(f"{k}: {v or 'defaults'}" for k, v in args.variants.items())]
    if "split" in args.sets:
        ref = 0 if args.only_variants else args.reference_seeds
        out += [f"\n### Assignment split: {train_path.name} ({len(train_df)} songs) / {test_path.name} "
                f"({len(test_df)} songs), {args.seeds} seeds\n",
                table(HEADER, fixed_split(args, "split", train_df, test_df, args.seeds, ref))]
    if "cv" in args.sets:
        pooled = pd.concat([train_df, test_df]).reset_index(drop=True)
        out += [f"\n### {args.folds}-fold cross-validation over all {len(pooled)} assignment songs\n",
                table(HEADER, cross_validation(args, pooled))]
    dev_train, dev_test = (Path(train_path).parent / f for f in DEV20)
    if "dev20" in args.sets and dev_train.is_file() and dev_test.is_file():
        tr, te = read_songs(dev_train)[0], read_songs(dev_test)[0]
        out += [f"\n### kaggle_dev20: {len(tr)} / {len(te)} songs by {tr['artist'].nunique()} artists, "
                f"{args.dev20_seeds} seeds\n", table(HEADER, fixed_split(args, "dev20", tr, te, args.dev20_seeds))]
    elif "dev20" in args.sets:
        print(f"kaggle_dev20 skipped: {dev_train} or {dev_test} is missing")
    print("\n".join(out))
    write_section(args.section, "\n".join(out))


if __name__ == "__main__":
    main()
