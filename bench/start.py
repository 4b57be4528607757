"""From Start to the first step: how long a training started from the dashboard takes to show its first step,
and where that time goes.

    python bench/start.py [--repeats 5] [--busy]

Starts the default config on the assignment files as the Train page does (``JobRegistry.start``: a training
process of its own), polls the job every 5 ms, and times each phase the training process reports: starting the
process (a fresh Python importing torch), preparing the data, building the model, then the first step (the
baselines are fitted beside the first steps). ``--busy`` keeps one core busy meanwhile, as users' machines
are. Stops each run after its first step. Writes the 'start' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import tempfile
import time

from _common import data_paths, machine, table, write_section

from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus
from lyricsdash.jobs import JobRegistry

PHASES = ("starting the training process", "preparing the data", "building the model", "first step")


def _spin(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def one_start(corpus, runs_dir: str) -> dict[str, float]:
    registry = JobRegistry()
    t0 = time.perf_counter()
    job = registry.start(corpus, TrainConfig(), runs_dir, data="assignment files")
    seen: dict[str, float] = {}
    while True:
        p = job.progress()
        now = time.perf_counter() - t0
        name = "first step" if p.steps >= 1 else next((ph for ph in PHASES if p.phase and p.phase.startswith(ph)),
                                                        None)
        if name and name not in seen:
            seen[name] = now
        if p.steps >= 1 or p.done:
            break
        time.sleep(0.005)
    job.stop()
    job.thread.join(60)
    marks = [seen.get(ph) for ph in PHASES]
    parts = {}
    for ph, start, end in zip(PHASES, marks, [*marks[1:], seen.get("first step")], strict=True):
        if ph != "first step":
            parts[ph] = (end - start) if start is not None and end is not None else float("nan")
    parts["Start to first step"] = seen.get("first step", float("nan"))
    return parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    args = ap.parse_args()
    train_csv, test_csv = data_paths(None, None)
    corpus = make_corpus(train_csv, test_csv, val_fraction=0.1, seed=0)
    stop = mp.Event()
    spinner = mp.Process(target=_spin, args=(stop,), daemon=True) if args.busy else None
    if spinner:
        spinner.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runs = [one_start(corpus, tmp) for _ in range(args.repeats)]
    finally:
        stop.set()
    rows = [[name, f"{statistics.median(r[name] for r in runs):.2f}",
             f"{min(r[name] for r in runs):.2f}-{max(r[name] for r in runs):.2f}"] for name in runs[0]]
    body = "\n".join([f"## From Start to the first step ({args.repeats} starts, "
                      f"{'one core kept busy' if args.busy else 'otherwise idle'})", "", f"Machine: {machine()}", "",
                      "The default config on the assignment files, started as the Train page starts it; seconds.",
                      "", table(["phase", "median s", "range"], rows)])
    print(body)
    write_section("start-busy" if args.busy else "start", body)


if __name__ == "__main__":
    main()
