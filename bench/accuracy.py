"""Accuracy: majority, TF-IDF + logistic regression, the reference design, the old and the new default config.

    python bench/accuracy.py                       # the assignment split ($LYRICSDASH_DATA_DIR or ../shared/data)
    python bench/accuracy.py --train a.csv --test b.csv --seeds 3 --folds 0
    python bench/accuracy.py --variant "label smoothing=label_smoothing=0.1" --only-variants --section ideas

The test set never chooses anything (weights are the final ones, or chosen on the validation split).
Prints tables and writes the 'accuracy' section (or --section) of bench/results.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
from _common import data_paths, machine, pct, table, write_section
from reference import encode_all, train_reference
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline

from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus, read_songs
from lyricsdash.engine import train
from lyricsdash.text import Vocab, tokenize

TFIDF = {
    "TF-IDF word 1-2-grams + LR": dict(analyzer="word", tokenizer=tokenize, token_pattern=None, ngram_range=(1, 2),
                                       sublinear_tf=True, min_df=1),
    "TF-IDF word unigrams + LR": dict(analyzer="word", tokenizer=tokenize, token_pattern=None, sublinear_tf=True),
    "TF-IDF char 2-5-grams + LR": dict(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
}


def tfidf_acc(kw, train_df, test_df) -> float:
    clf = make_pipeline(TfidfVectorizer(**kw), LogisticRegression(C=10, max_iter=3000))
    clf.fit(train_df["text"], train_df["artist"])
    return float((clf.predict(test_df["text"]) == test_df["artist"]).mean())


def majority_acc(train_df, test_df) -> float:
    return float((test_df["artist"] == train_df["artist"].value_counts().idxmax()).mean())


# The first default (random embeddings, validation-chosen checkpoint, 12 epochs, windows every 32 words), and
# the second (NB-initialised embeddings, final weights after 8 epochs, windows every 32 words).
OLD_DEFAULT = {"nb_init": 0, "keep": "best_val", "epochs": 12, "eval_every": 1, "stride": 32}
VARIANTS = {"lyricsdash first default (random init, best-val checkpoint, 12 epochs, stride 32)": OLD_DEFAULT,
            "lyricsdash second default (NB init, final weights, 8 epochs, stride 32)": {"stride": 32},
            "lyricsdash default (NB init, final weights, 8 epochs, stride 16)": {}}


def corpus_for(train_df, test_df, seed: int, overrides: dict):
    """The split a config trains on: its own validation share, carved with the run's seed."""
    return make_corpus(train_df, test_df, seed=seed, val_fraction=float(overrides.get("val_fraction", 0.1)))


def engine_run(corpus, seed: int, overrides: dict) -> dict:
    r = train(corpus, TrainConfig(seed=seed, **{"baselines": False, **overrides}))
    return {"test_acc": r.kept.test_acc, "val_acc": r.kept.val_acc, "seconds": r.train_seconds,
            "tokens_per_s": r.tokens / r.train_seconds, "params": r.params}


def reference_run(corpus, seed: int, epochs: int) -> dict:
    toks = {k: [tokenize(t) for t in df["text"]] for k, df in
            (("train", corpus.train), ("val", corpus.val), ("test", corpus.test))}
    vocab = Vocab.build(toks["train"], min_freq=1)
    ids = {a: i for i, a in enumerate(corpus.labels)}
    split = {k: (encode_all(toks[k], vocab), [ids[a] for a in df["artist"]]) for k, df in
             (("train", corpus.train), ("val", corpus.val), ("test", corpus.test))}
    return train_reference(split["train"], split["val"], split["test"], len(corpus.labels), len(vocab), epochs, seed)


def summarize(name: str, runs: list[dict]) -> list:
    accs = [r["test_acc"] for r in runs]
    secs = [r.get("seconds", 0.0) for r in runs]
    return [name, len(runs), pct(statistics.mean(accs)), pct(min(accs)), pct(max(accs)),
            f"{statistics.mean(secs):.1f}", f"{runs[0].get('params', '')}"]


def split_benchmark(args, train_df, test_df) -> list[list]:
    rows = [] if args.only_variants else [["majority class", 1, *[pct(majority_acc(train_df, test_df))] * 3, "0", ""]]
    for name, kw in ({} if args.only_variants else TFIDF).items():
        t0 = time.perf_counter()
        acc = tfidf_acc(kw, train_df, test_df)
        rows.append([name, 1, pct(acc), pct(acc), pct(acc), f"{time.perf_counter() - t0:.1f}", ""])
        print(rows[-1], flush=True)
    corpora = {s: make_corpus(train_df, test_df, seed=s) for s in range(args.seeds)}
    if args.reference_seeds:
        ref = [reference_run(corpora[s], s, args.reference_epochs) for s in range(args.reference_seeds)]
        rows.append(summarize(f"reference design ({args.reference_epochs} epochs)", ref))
        print(rows[-1], flush=True)
    for name, overrides in args.variants.items():
        eng = []
        for s in range(args.seeds):
            eng.append(engine_run(corpus_for(train_df, test_df, s, overrides), s, overrides))
            print(f"{name} seed {s}: test {pct(eng[-1]['test_acc'])} {eng[-1]['seconds']:.1f} s", flush=True)
        rows.append(summarize(name, eng))
    return rows


def cv_benchmark(args, pooled: pd.DataFrame) -> list[list]:
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=0).split(pooled, pooled["artist"])
    tfidf = {} if args.only_variants else TFIDF
    results = {name: [] for name in [*tfidf, *args.variants]}
    for k, (tr, te) in enumerate(folds):
        train_df, test_df = pooled.iloc[tr].reset_index(drop=True), pooled.iloc[te].reset_index(drop=True)
        for name, kw in tfidf.items():
            t0 = time.perf_counter()
            results[name].append({"test_acc": tfidf_acc(kw, train_df, test_df), "seconds": time.perf_counter() - t0})
        for name, overrides in args.variants.items():
            results[name].append(engine_run(corpus_for(train_df, test_df, k, overrides), k, overrides))
        print(f"fold {k}: " + " ".join(f"{n[:30]} {pct(r[-1]['test_acc'])}" for n, r in results.items()), flush=True)
    return [summarize(name, runs) for name, runs in results.items()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train")
    p.add_argument("--test")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds over train+test pooled (0 = skip)")
    p.add_argument("--reference-seeds", type=int, default=3, help="seeds for the slow reference design (0 = skip)")
    p.add_argument("--reference-epochs", type=int, default=4)
    p.add_argument("--variant", action="append", default=[], metavar="NAME=key=value,key=value",
                   help="an extra engine config to measure (repeatable)")
    p.add_argument("--only-variants", action="store_true", help="measure only the --variant configs")
    p.add_argument("--section", default="accuracy", help="the section of bench/results.md to write")
    args = p.parse_args()
    extra = {}
    for v in args.variant:
        name, _, kvs = v.partition("=")
        extra[name] = dict(kv.split("=", 1) for kv in kvs.split(",") if kv)
    args.variants = extra if args.only_variants else {**VARIANTS, **extra}
    if args.only_variants:
        args.reference_seeds = 0
    train_path, test_path = data_paths(args.train, args.test)
    train_df, _ = read_songs(train_path)
    test_df = read_songs(test_path)[0] if test_path else None
    if test_df is None:
        c = make_corpus(train_df, seed=0)
        train_df, test_df = pd.concat([c.train, c.val]), c.test
    header = ["method", "runs", "mean test acc", "min", "max", "seconds/run", "params"]
    out = [f"## {args.section.capitalize()}\n\nMachine: {machine()}  \n"
           f"Data: {train_path.name} ({len(train_df)} songs) / "
           f"{test_path.name if test_path else 'split'} ({len(test_df)} songs); engine configs: "
           + "; ".join(f"{k}: {v or 'defaults'}" for k, v in args.variants.items()),
           "\n### Fixed train/test split\n", table(header, split_benchmark(args, train_df, test_df))]
    if args.folds:
        pooled = pd.concat([train_df, test_df]).reset_index(drop=True)
        out += [f"\n### {args.folds}-fold cross-validation over all {len(pooled)} songs\n",
                table(header, cv_benchmark(args, pooled))]
    print("\n".join(out))
    write_section(args.section, "\n".join(out))


if __name__ == "__main__":
    main()
