"""What TensorBoard and W&B users expect, measured on the assignment split: an Optuna search, the export of
its runs, and an exact resume of the default config.

    python bench/ecosystem.py                       # 20 trials, resume at step 150
    python bench/ecosystem.py --trials 5 --only search

* search: ``--trials`` trials over lr, dropout, word_dropout and hidden_size (32-128), the other settings the
  defaults; the objective is the kept weights' validation accuracy (the test set never chooses). Reports the
  best trial, its test accuracy, how many were pruned, and the wall-clock time.
* export: ``python -m lyricsdash export`` of the search's runs folder: rows, CSV size, seconds.
* resume: the default config stopped at ``--stop-at`` and resumed, against the same run never stopped: whether
  every weight is ``torch.equal``, and the seconds of each.

One torch thread per run. Writes the 'ecosystem' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch
from _common import ROOT, data_paths, machine, pct, table, write_section

from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus
from lyricsdash.engine import train
from lyricsdash.experiments import Experiment, Plan, run_all, train_here
from lyricsdash.export import long_table
from lyricsdash.recorder import RunRecorder
from lyricsdash.runs import RunFolder
from lyricsdash.search import best_trial, parse_space

sys.path.insert(0, str(ROOT / "tests"))
from test_resume import StopAt  # noqa: E402 - the callback that stops a run at a given step

SPACE = ["lr", "dropout", "word_dropout", "hidden_size=32:128"]


def search(corpus, root: Path, trials: int) -> tuple[list[str], Experiment, float]:
    plan = Plan("search", {"threads": 1}, space=parse_space(SPACE), trials=trials)
    exp = Experiment.create(plan, root, "assignment files")

    def train_one(run_corpus, cfg, i, observers=()):
        rec = RunRecorder(root)
        result = train_here(run_corpus, cfg, rec, observers)
        print(f"trial {i}: {result.status}, val {pct(result.kept.val_acc)}", flush=True)
        return rec.run_id, result.status

    t = time.perf_counter()
    run_all(exp, corpus, train_one)
    seconds = time.perf_counter() - t
    runs = exp.runs
    best = best_trial(exp)
    lines = [f"### Optuna search over {', '.join(SPACE)}: {trials} trials", "",
             table(["trials", "finished", "pruned", "best validation acc", "its test acc", "its settings",
                    "wall-clock"],
                   [[len(runs), sum(r.status == "finished" for r in runs),
                     sum(r.status == "pruned" for r in runs), pct(best.value), pct(best.test_accuracy),
                     ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in best.params.items()), f"{seconds:.0f} s"]])]
    return lines, exp, seconds


def export(root: Path) -> list[str]:
    t = time.perf_counter()
    frame, _ = long_table(root)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "all.csv"
        frame.to_csv(out, index=False)
        size = out.stat().st_size
    seconds = time.perf_counter() - t
    return ["### export of those runs", "",
            table(["runs", "rows", "columns", "CSV size", "seconds"],
                  [[frame["run"].nunique(), len(frame), frame.shape[1], f"{size / 2**20:.1f} MB", f"{seconds:.2f}"]])]


def resume(corpus, root: Path, stop_at: int) -> list[str]:
    cfg = TrainConfig(threads=1, baselines=False)
    t = time.perf_counter()
    whole = RunRecorder(root)
    train(corpus, cfg, [whole])
    whole_s = time.perf_counter() - t
    t = time.perf_counter()
    stop = threading.Event()
    parted = RunRecorder(root)
    train(corpus, cfg, [parted, StopAt(stop_at, stop)], stop)
    first_s = time.perf_counter() - t
    t = time.perf_counter()
    train(corpus, cfg, [RunRecorder.resuming(parted.dir)], resume_from=RunFolder(parted.dir).resume_point())
    second_s = time.perf_counter() - t
    a, b = RunFolder(whole.dir).load()[0].state_dict(), RunFolder(parted.dir).load()[0].state_dict()
    equal = all(torch.equal(a[k], b[k]) for k in a)
    return [f"### resume: the default config stopped at step {stop_at} and resumed", "",
            table(["weights torch.equal to the run never stopped", "never stopped", "stopped part",
                   "resumed part"], [[str(equal), f"{whole_s:.1f} s", f"{first_s:.1f} s", f"{second_s:.1f} s"]])]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train")
    p.add_argument("--test")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--stop-at", type=int, default=150)
    p.add_argument("--only", choices=["search", "resume"])
    p.add_argument("--section", default="ecosystem")
    args = p.parse_args()
    torch.set_num_threads(1)
    train_csv, test_csv = data_paths(args.train, args.test)
    corpus = make_corpus(train_csv, test_csv, val_fraction=0.1, seed=0)
    parts = [f"## Ecosystem: search, export, resume ({train_csv.name} / {test_csv.name})", "",
             f"Machine: {machine()}"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.only in (None, "search"):
            lines, _, _ = search(corpus, root / "search", args.trials)
            parts += ["", *lines, "", *export(root / "search")]
        if args.only in (None, "resume"):
            parts += ["", *resume(corpus, root / "resume", args.stop_at)]
    body = "\n".join(parts)
    print(body)
    write_section(args.section, body)


if __name__ == "__main__":
    main()
