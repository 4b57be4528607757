"""Explanation latency: Integrated Gradients of a 300-word song with the default config's model.

    python bench/explain.py [--songs 20] [--busy]

Trains the default config on the assignment files (else the demo corpus), then explains test songs cut to
300 words (shorter ones repeated up to 300) for their predicted artist against the average artist, and for
the runner-up rather than the predicted one. Reports p50/p95 seconds and the completeness gap. With --busy a
plain CPU-bound process keeps one core busy meanwhile. Writes the 'explain' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from _common import data_paths, machine, table, write_section

from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus, read_songs
from lyricsdash.demo import demo_corpus
from lyricsdash.engine import train
from lyricsdash.explain import REL_TOL, TOL, allowed_gap
from lyricsdash.predictor import Predictor
from lyricsdash.text import tokenize

WORDS = 300


def corpus():
    try:
        train_path, test_path = data_paths(None, None)
    except SystemExit:
        return demo_corpus(), "demo corpus"
    return make_corpus(read_songs(train_path)[0], read_songs(test_path)[0], seed=0), "assignment files"


def songs_of(texts, n: int) -> list[str]:
    out = []
    for text in list(texts)[:n]:
        words = tokenize(text)
        out.append(" ".join((words * (WORDS // len(words) + 1))[:WORDS]))
    return out


def measure(predictor: Predictor, texts: list[str], runner_up: bool) -> dict:
    seconds, gaps, points, over = [], [], [], 0
    for text in texts:
        ranked = list(predictor.predict(text).probabilities)
        artist, against = (ranked[1], ranked[0]) if runner_up else (ranked[0], None)
        t = time.perf_counter()
        e = predictor.explain(text, artist, against)
        seconds.append(time.perf_counter() - t)
        gaps.append(e.gap)
        points.append(e.gradient_points)
        over += e.gap > allowed_gap(e.score - e.baseline_score)
    return {"p50": statistics.median(seconds), "p95": float(np.percentile(seconds, 95)), "max": max(seconds),
            "gap_median": statistics.median(gaps), "gap_max": max(gaps), "points": statistics.median(points),
            "over": over}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--songs", type=int, default=20)
    p.add_argument("--busy", action="store_true", help="keep one core busy with a plain CPU-bound process")
    args = p.parse_args()
    data, name = corpus()
    cfg = TrainConfig(baselines=False)
    result = train(data, cfg)
    predictor = Predictor(result.model, result.vocab, result.labels, cfg)
    torch.set_num_threads(cfg.threads or 1)
    texts = songs_of(data.test["text"], args.songs)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        rows = []
        for label, runner_up in (("predicted artist vs the average artist", False),
                                 ("runner-up rather than the predicted artist", True)):
            m = measure(predictor, texts, runner_up)
            rows.append([label, len(texts), f"{m['p50']:.3f}", f"{m['p95']:.3f}", f"{m['max']:.3f}",
                         f"{m['points']:,.0f}", f"{m['gap_median']:.4f}", f"{m['gap_max']:.4f}", m["over"]])
            print(rows[-1], flush=True)
    finally:
        if busy:
            busy.kill()
    header = ["question", "songs", "p50 s", "p95 s", "max s", "gradient points (median)",
              "completeness gap, median (nats)", "max (nats)", "songs over the allowed gap"]
    load = "one core kept busy by a plain CPU-bound process" if args.busy else "machine as it was"
    body = (f"## Explanations\n\nMachine: {machine()}  \n"
            f"Default config trained on the {name} ({result.kept.test_acc:.1%} test accuracy); {len(texts)} test "
            f"songs cut or repeated to {WORDS} words; Integrated Gradients from the all-unknown song; allowed gap "
            f"{TOL} nats or {REL_TOL:.1%} of the song's score change, whichever is larger; {load}."
            f"\n\n" + table(header, rows))
    print(body)
    write_section("explain", body)


if __name__ == "__main__":
    main()
