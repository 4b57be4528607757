"""Speed: training tokens/s of the engine vs the reference loop, time to final accuracy, predict latency,
and the share of this machine's matmul FLOP/s that LSTM training reaches.

    python bench/speed.py [--train CSV --test CSV] [--steps 30] [--rounds 3]

Tokens are real (unpadded) training words. The engine is measured through its own data preparation
(``prepare``) and its own step (``train_step``: word dropout, clipping, optimiser and schedule included).
Both loops run in this one process, alternating rounds. Writes the 'speed' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time

import numpy as np
import torch
from _common import data_paths, machine, table, write_section
from reference import ReferenceLSTM
from reference import train_step as reference_step

from lyricsdash.batches import bags_of, bucket_batches, collate
from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus
from lyricsdash.engine import auto_threads, build_model, make_optimizer, train, train_step
from lyricsdash.predictor import Predictor
from lyricsdash.prepare import prepare
from lyricsdash.recorder import RunRecorder
from lyricsdash.records import Callback

REF_SIZES = {"embed_dim": 256, "hidden_size": 128, "num_layers": 2, "bidirectional": False, "pooling": "last"}


def reference_tokens_per_s(data, steps, seed) -> float:
    """The reference loop: unsorted batches of 64 whole songs padded to the longest, no packing."""
    torch.manual_seed(seed)
    songs = [torch.cat([data.train.seqs[i] for i in np.flatnonzero(data.train.song == s)]).tolist()
             for s in range(data.train.n_songs)]
    labels = data.train.labels.tolist()
    model = ReferenceLSTM(len(data.vocab), len(data.labels))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    rng = random.Random(seed)
    tokens, t0 = 0, time.perf_counter()
    for _ in range(steps):
        idx = rng.sample(range(len(songs)), 64)
        tokens += reference_step(model, opt, [songs[i] for i in idx], [labels[i] for i in idx])
    return tokens / (time.perf_counter() - t0)


def engine_tokens_per_s(data, cfg: TrainConfig, steps, seed) -> float:
    """The engine's own step (bucketed batches, real positions only) with the given config, no evaluation."""
    torch.manual_seed(seed)
    model = build_model(data, cfg)
    opt, sched = make_optimizer(model, cfg, steps)
    y_all = torch.as_tensor(data.train.labels[data.train.song])
    batches = bucket_batches(data.train.lengths, cfg.batch_size, random.Random(seed))
    tokens, t0 = 0, time.perf_counter()
    for i in range(steps):
        idx = batches[i % len(batches)]
        x, lengths = collate([data.train.seqs[j] for j in idx])
        train_step(model, opt, sched, x, lengths, y_all[idx], cfg, bags=bags_of(data.train, idx))
        tokens += int(lengths.sum())
    return tokens / (time.perf_counter() - t0)


def throughput(corpus, steps, rounds) -> list[list]:
    variants = {
        "reference loop (pad to longest, unsorted, last step), batch 64": None,
        "engine, reference sizes, whole songs bucketed+packed, batch 64":
            TrainConfig(**REF_SIZES, length_strategy="whole", batch_size=64),
        "engine, reference sizes, windows of 64 words, batch 64": TrainConfig(**REF_SIZES, batch_size=64),
        "engine default config": TrainConfig(),
        "engine default config, song context of words alone (context=bag)": TrainConfig(context="bag"),
        "engine default config without song context (context=off)": TrainConfig(context="off"),
    }
    results = {k: [] for k in variants}
    for r in range(rounds):  # alternate so that machine noise hits every variant alike
        for name, cfg in variants.items():
            data = prepare(corpus, cfg or TrainConfig(length_strategy="whole", min_freq=1))
            tps = reference_tokens_per_s(data, steps, r) if cfg is None else engine_tokens_per_s(data, cfg, steps, r)
            results[name].append(tps)
            print(f"round {r} {name}: {tps:,.0f} tokens/s", flush=True)
    ref = statistics.median(results[next(iter(variants))])
    return [[name, f"{statistics.median(v):,.0f}", f"{statistics.median(v) / ref:.2f}x"]
            for name, v in results.items()]


class _Elapsed(Callback):
    """Collects each step's elapsed seconds: what the benchmark needs of the history, nothing more."""

    def __init__(self):
        self.elapsed = {}

    def on_step(self, record):
        self.elapsed[record["step"]] = record["elapsed_s"]


def time_to_accuracy(corpus) -> tuple[list[list], str]:
    runs, clock = tempfile.mkdtemp(), _Elapsed()
    rec = RunRecorder(runs)
    r = train(corpus, TrainConfig(), [rec, clock])
    rows = [["default config, total training wall-clock (evaluation included)", f"{r.train_seconds:.1f} s"],
            ["of which evaluating validation and test (automatic cadence)", f"{r.eval_seconds:.1f} s"],
            [f"time until the best validation score (step {r.best.step} of {r.steps})",
             f"{clock.elapsed[r.best.step]:.1f} s"],
            ["test accuracy of the kept (final) weights", f"{100 * r.kept.test_acc:.2f} %"],
            ["training tokens/s including evaluation", f"{r.tokens / r.train_seconds:,.0f}"]]
    return rows, str(rec.dir)


def predict_latency(run_dir: str, corpus) -> list[list]:
    pred = Predictor.from_run(run_dir)
    words = " ".join(" ".join(corpus.test["text"]).split()[:300])
    pred.predict(words)  # warm-up
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        pred.predict(words)
        times.append(1000 * (time.perf_counter() - t0))
    return [["predict one 300-word song, p50", f"{np.percentile(times, 50):.2f} ms"],
            ["predict one 300-word song, p95", f"{np.percentile(times, 95):.2f} ms"]]


def _time_mm(a: torch.Tensor, b: torch.Tensor, n: int) -> float:
    torch.mm(a, b)
    t0 = time.perf_counter()
    for _ in range(n):
        torch.mm(a, b)
    return (time.perf_counter() - t0) / n


def matmul_fraction(corpus) -> list[list]:
    """LSTM training FLOP/s (gate matmuls only) vs torch.mm at the LSTM's own shapes, measured now.

    Per window of T words and batch B, an LSTM direction does one input projection (B*T, E) x (E, 4H)
    and T recurrent products (B, H) x (H, 4H); the baseline is torch.mm doing exactly those.
    """
    cfg = TrainConfig()
    b, t, e, h = cfg.batch_size, cfg.window, cfg.embed_dim, cfg.hidden_size
    t_in = _time_mm(torch.randn(b * t, e), torch.randn(e, 4 * h), 200)
    t_rec = _time_mm(torch.randn(b, h), torch.randn(h, 4 * h), 2000)
    flops = 2 * b * t * 4 * h * (e + h)
    baseline = flops / (t_in + t * t_rec)
    big = torch.randn(1024, 1024)
    peak = 2 * 1024**3 / _time_mm(big, big, 20)
    tps = engine_tokens_per_s(prepare(corpus, cfg), cfg, 40, 0)
    dirs = 2 if cfg.bidirectional else 1
    achieved = tps * 3 * dirs * 2 * 4 * h * (e + h)  # forward + backward (about 3x forward) of the gate matmuls
    return [["torch.mm at the LSTM's shapes (input projection + per-step recurrence)",
             f"{baseline / 1e9:.2f} GFLOP/s"],
            ["torch.mm 1024x1024", f"{peak / 1e9:.2f} GFLOP/s"],
            ["LSTM training, gate-matmul FLOPs only", f"{achieved / 1e9:.2f} GFLOP/s"],
            ["share of torch.mm at the LSTM's shapes", f"{100 * achieved / baseline:.1f} %"],
            ["share of torch.mm 1024x1024", f"{100 * achieved / peak:.1f} %"]]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train")
    p.add_argument("--test")
    p.add_argument("--steps", type=int, default=20, help="training steps per measurement")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(auto_threads())  # what training uses by default (threads=0)
    train_path, test_path = data_paths(args.train, args.test)
    corpus = make_corpus(train_path, test_path, seed=0)
    tput = throughput(corpus, args.steps, args.rounds)
    tta, run_dir = time_to_accuracy(corpus)
    out = [f"## Speed\n\nMachine: {machine()}  \nData: {train_path.name}; {args.steps} steps per measurement, "
           f"median of {args.rounds} alternating rounds.\n",
           "### Training tokens/s (real words, no evaluation)\n",
           table(["loop", "tokens/s", "vs reference"], tput),
           "\n### Default config end to end\n", table(["what", "value"], tta + predict_latency(run_dir, corpus)),
           "\n### Share of matmul FLOP/s\n", table(["what", "value"], matmul_fraction(corpus))]
    print("\n".join(out))
    write_section("speed", "\n".join(out))


if __name__ == "__main__":
    main()
