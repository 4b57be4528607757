"""The explanations' adaptive Integrated Gradients against Captum's fixed grids, on the whole path from the
all-<unk> song: gradient evaluations and the completeness gap each reaches.

    python bench/ig_vs_captum.py                 # the default config on the assignment split, 10 test songs
    python bench/ig_vs_captum.py --songs 5 --demo

For each song: ours (``lyricsdash.explain``, default tolerance) and Captum's ``IntegratedGradients``
(Gauss-Legendre) at several step counts. An evaluation is one window's forward and backward pass. The gap is
|sum of the attributions - score change| for the song, in nats. Writes the 'captum' section of
bench/results.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from _common import data_paths, machine, table, write_section
from captum.attr import IntegratedGradients

from lyricsdash.batches import split_ids
from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus
from lyricsdash.demo import demo_corpus
from lyricsdash.engine import train
from lyricsdash.explain import allowed_gap, contrast
from lyricsdash.predictor import Predictor
from lyricsdash.recorder import RunRecorder
from lyricsdash.text import UNK_ID, tokenize

STEPS = (64, 256, 1024, 4096)


def windows(p: Predictor, text: str):
    m, cfg = p.model, p.cfg
    ids = p.vocab.encode(tokenize(text, cfg.tokens, cfg.repeats)[: cfg.max_len])
    batch = torch.tensor(split_ids(ids, cfg.length_strategy, cfg.max_len, cfg.window, cfg.stride))
    with torch.no_grad():
        x, x0 = m.inputs(batch), m.inputs(torch.full_like(batch, UNK_ID))
    w = contrast(p.labels, p.predict(text).artist, None) / m.temperature
    return x, x0, w


def one_song(p: Predictor, text: str) -> dict:
    m = p.model
    t = time.perf_counter()
    e = p.explain(text)
    row = {"ours": (e.gradient_points, e.gap, time.perf_counter() - t),
           "allowed": allowed_gap(e.score - e.baseline_score)}
    x, x0, w = windows(p, text)

    def score(xs):
        return m.from_inputs(xs, torch.full((len(xs),), x.shape[1], dtype=torch.long)) @ w

    delta = float((score(x) - score(x0)).mean())
    for n in STEPS:
        t = time.perf_counter()
        attr = IntegratedGradients(score).attribute(x, baselines=x0, n_steps=n, method="gausslegendre",
                                                    internal_batch_size=512)
        gap = abs(float(attr.sum((1, 2)).mean()) - delta)  # the song's score is the windows' mean
        row[n] = (n * len(x), gap, time.perf_counter() - t)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--songs", type=int, default=10)
    ap.add_argument("--demo", action="store_true", help="the synthetic demo corpus instead of the assignment")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.demo:
        corpus, name = demo_corpus(), "demo corpus"
    else:
        train_csv, test_csv = data_paths(None, None)
        corpus, name = make_corpus(train_csv, test_csv, val_fraction=0.1, seed=0), "assignment split"
    with tempfile.TemporaryDirectory() as tmp:
        rec = RunRecorder(tmp)
        train(corpus, TrainConfig(threads=1, baselines=False), [rec])
        p = Predictor.from_run(rec.dir)
        rows = []
        for i, text in enumerate(list(corpus.test["text"])[: args.songs]):
            rows.append(one_song(p, text))
            print(f"song {i + 1}: ours {rows[-1]['ours'][:2]}, " + ", ".join(f"{n}: {rows[-1][n][:2]}" for n in STEPS),
                  flush=True)
    out = []
    for method in ("ours", *STEPS):
        evals, gaps, secs = zip(*(r[method] for r in rows), strict=True)
        within = sum(g <= r["allowed"] for g, r in zip(gaps, rows, strict=True))
        out.append(["adaptive Simpson (lyricsdash)" if method == "ours" else f"Captum Gauss-Legendre, {method} steps",
                    f"{statistics.median(evals):,.0f}", f"{statistics.median(gaps):.4f}", f"{max(gaps):.4f}",
                    f"{within} / {len(rows)}", f"{statistics.median(secs):.2f}"])
    body = "\n".join([
        f"## Integrated Gradients against Captum ({name}, default config, {len(rows)} test songs)", "",
        f"Machine: {machine()}", "",
        "From the all-<unk> song to the song; an evaluation is one window's forward and backward pass; the gap "
        "is |sum of the attributions - score change| for the song; 'within' counts songs whose gap is within "
        "what the page allows (0.01 nats or 0.5 % of the change).", "",
        table(["method", "evaluations (median)", "gap median (nats)", "gap max", "within", "seconds (median)"],
              out)])
    print(body)
    write_section("captum", body)


if __name__ == "__main__":
    main()
