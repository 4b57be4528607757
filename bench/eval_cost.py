"""What a test point at every global step costs: one evaluation against one training step, and whole runs.

    python bench/eval_cost.py [--busy] [--rounds 2]   # the assignment split, seed 0, one torch thread
    python bench/eval_cost.py --every-step            # also the run with eval_every=1 (minutes more)

Times one evaluation of the validation and test songs (median of 10) read three ways: the default's windows
(64 every 16 tokens), windows that do not overlap, and whole songs. Then trains the default config with the
automatic cadence (eval_every=0: full evaluations at the first step and epoch ends, rolling ones between) and
with evaluation at epoch ends only, in this one process, the two in turn for ``--rounds`` rounds, and counts
the steps whose record carries a test value, and those that are full evaluations; then, once each, the demo
corpus with the automatic cadence, at epoch ends only and in full every step. With --busy a plain CPU-bound
process keeps the other core busy meanwhile. Writes the 'eval-cost' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time

import torch
from _common import data_paths, machine, table, write_section

from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus, read_songs
from lyricsdash.demo import demo_corpus
from lyricsdash.engine import build_model, train
from lyricsdash.evaluate import EvalSet
from lyricsdash.prepare import prepare

READINGS = {"windows of 64 every 16 (the default)": {}, "windows of 64 every 64": {"stride": 64},
            "whole songs (first 1,000 tokens)": {"length_strategy": "whole"}}
EPOCH_ENDS = 10**5  # eval_every beyond any run's steps: evaluation at epoch ends only


def evaluation_ms(corpus, changes: dict, repeats: int = 10) -> tuple[float, int]:
    """-> (median ms of one validation + test evaluation, tokens read) for a fresh default model."""
    cfg = TrainConfig(**changes)
    data = prepare(corpus, cfg)
    model = build_model(data, cfg)
    sets = [EvalSet(d, torch.device("cpu"), cfg.eval_batch_tokens) for d in (data.val, data.test)]  # as in training
    times = []
    for _ in range(repeats + 1):  # the first warms up
        t = time.perf_counter()
        for s in sets:
            s.evaluate(model)
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times[1:]), int(data.val.lengths.sum() + data.test.lengths.sum())


class Count:
    """Counts the steps whose record carries a test value, and the full evaluations among them."""

    def __init__(self):
        self.steps = self.evaluated = self.full = 0
        self.lags = []

    def on_step(self, rec: dict) -> None:
        self.steps += 1
        self.evaluated += not math.isnan(rec["test_acc"])
        self.full += rec["eval_lag"] == 0
        if rec["eval_lag"] > 0:
            self.lags.append(rec["eval_lag"])


LABELS = {0: "automatic (eval_every=0, the default)", EPOCH_ENDS: "epoch ends only", 1: "eval_every=1"}


def one_run(corpus, eval_every: int) -> dict:
    """The default run with ``eval_every`` -> its seconds, steps, evaluated steps, evaluation seconds."""
    counter = Count()
    t = time.perf_counter()
    r = train(corpus, TrainConfig(seed=0, baselines=False, threads=1, eval_every=eval_every), [counter])
    return {"seconds": time.perf_counter() - t, "steps": r.steps, "evaluated": counter.evaluated,
            "full": counter.full, "eval_seconds": r.eval_seconds, "test_acc": r.kept.test_acc,
            "lag": max(counter.lags, default=0)}


def row(eval_every: int, r: dict) -> list:
    step_ms = 1000 * (r["seconds"] - r["eval_seconds"]) / r["steps"]
    return [LABELS[eval_every], f"{r['seconds']:.1f}", r["steps"],
            f"{r['evaluated']} ({100 * r['evaluated'] / r['steps']:.1f} %)", r["full"], r["lag"],
            f"{r['eval_seconds']:.1f}", f"{step_ms:.1f}", f"{100 * r['test_acc']:.2f} %"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--every-step", action="store_true", help="also train with eval_every=1")
    p.add_argument("--busy", action="store_true", help="keep the other core busy with a plain CPU-bound process")
    p.add_argument("--rounds", type=int, default=2, help="rounds of the automatic and epoch-end runs, in turn")
    args = p.parse_args()
    torch.set_num_threads(1)
    train_path, test_path = data_paths(None, None)
    corpus = make_corpus(read_songs(train_path)[0], read_songs(test_path)[0], seed=0)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        costs = [[name, *evaluation_ms(corpus, changes)] for name, changes in READINGS.items()]
        rows, ratios = [], []
        for k in range(args.rounds):
            order = [0, EPOCH_ENDS] if k % 2 == 0 else [EPOCH_ENDS, 0]
            runs = {every: one_run(corpus, every) for every in order}
            ratios.append(runs[0]["seconds"] / runs[EPOCH_ENDS]["seconds"])
            rows += [[k + 1, *row(every, runs[every])] for every in (0, EPOCH_ENDS)]
        if args.every_step:
            every = one_run(corpus, 1)
            rows.append(["", *row(1, every)])
        demo = demo_corpus()
        demo_rows = [row(e, one_run(demo, e)) for e in (0, EPOCH_ENDS, 1)]
    finally:
        if busy:
            busy.kill()
    base = runs[EPOCH_ENDS]
    step_ms = 1000 * (base["seconds"] - base["eval_seconds"]) / base["steps"]
    note = (f"The cheapest full reading costs {min(ms for _, ms, _ in costs) / step_ms:.1f} training steps (epoch "
            f"ends only: {step_ms:.1f} ms a step). The automatic cadence took "
            + ", ".join(f"{r:.2f}" for r in ratios) + " times as long as evaluating at epoch ends only "
            f"(round by round), with a test value on {100 * runs[0]['evaluated'] / runs[0]['steps']:.1f} % of steps.")
    if args.every_step:
        note += f" Evaluating every step in full took {every['seconds'] / base['seconds']:.1f} times as long."
    load = "the other core kept busy by a plain CPU-bound process" if args.busy else "the machine as it was"
    body = (f"## Eval-cost\n\n{machine()}  \n{train_path.name} / {test_path.name}, seed 0, the default config, "
            f"baselines off, {load}.\n\n### One full evaluation of the validation and test songs (median of 10)\n\n"
            + table(["reading", "ms", "tokens read"], [[n, f"{ms:.0f}", tok] for n, ms, tok in costs])
            + "\n\n### The default run by evaluation cadence\n\n"
            + table(["round", "evaluation", "seconds", "steps", "steps with a test value", "full evaluations",
                     "largest eval_lag", "evaluation seconds", "ms per step without evaluation",
                     "test acc (kept)"], rows) + "\n\n" + note
            + "\n\n### The same on the demo corpus (the tests' data: 180 invented songs)\n\n"
            + table(["evaluation", "seconds", "steps", "steps with a test value", "full evaluations",
                     "largest eval_lag", "evaluation seconds", "ms per step without evaluation",
                     "test acc (kept)"], demo_rows))
    print(body)
    write_section("eval-cost", body)


if __name__ == "__main__":
    main()
