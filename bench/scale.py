"""Scale: a generated corpus of 5,000 to 50,000 songs by 100 artists, and the default config end to end on
a 3,000-song, 20-artist corpus (the shape of a bigger lyrics set).

    python bench/scale.py [--sizes 5000 10000 20000 50000] [--steps 40]
    python bench/scale.py --end-to-end [--songs 3000 --artists 20] [--set-each stride=64 ...]
    python bench/scale.py --processes 1 2 [--songs 20000 --artists 100]   # torchrun, one epoch each

For each size, in a fresh subprocess (so peak memory is that size's own): loading + splitting time,
tokenizing + vocabulary + encoding time, peak resident memory, and seconds per epoch of the default
config (timed over --steps training steps, then scaled to the epoch's step count, evaluation excluded).
The corpus is synthetic (invented words); only the cost is measured here, not accuracy.
Writes the 'scale' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import machine, table, write_section

from lyricsdash.runs import RunFolder


def synthetic_songs(n_songs: int, n_artists: int = 100, seed: int = 0, own_share: float = 0.2):
    """Invented songs: each artist draws ``own_share`` of its words from 60 of its own, the rest from 3,000."""
    import pandas as pd

    rng = random.Random(seed)
    common = [f"w{i}" for i in range(3000)]
    rows = []
    for i in range(n_songs):
        a = i % n_artists
        own = [f"a{a}x{j}" for j in range(60)]
        n_words = int(rng.lognormvariate(5.3, 0.45))  # median ~200 words, like the lyrics
        words = [rng.choice(own) if rng.random() < own_share else rng.choice(common) for _ in range(n_words)]
        rows.append((f"Artist {a}", f"song {i}", " ".join(words)))
    return pd.DataFrame(rows, columns=["artist", "song", "text"])


def end_to_end(n_songs: int, n_artists: int, overrides: list[str]) -> dict:
    """The default config (plus overrides) trained to the end through the engine, baselines included."""
    from lyricsdash.config import TrainConfig, parse_overrides
    from lyricsdash.data import make_corpus
    from lyricsdash.engine import train

    t0 = time.perf_counter()
    corpus = make_corpus(synthetic_songs(n_songs, n_artists, seed=1, own_share=0.02), seed=0)  # a hard task
    cfg = TrainConfig.from_dict(parse_overrides(overrides))
    r = train(corpus, cfg)
    total = time.perf_counter() - t0
    return {"songs": n_songs, "artists": n_artists, "overrides": " ".join(overrides) or "defaults",
            "total_s": total, "train_s": r.train_seconds, "eval_s": r.eval_seconds, "steps": r.steps,
            "test_acc": r.kept.test_acc, "tfidf_words": r.baselines["tfidf_words"]["test_acc"],
            "tfidf_chars": r.baselines["tfidf_chars"]["test_acc"], "majority": r.baselines["majority"]["test_acc"]}


def end_to_end_section(args) -> None:
    rows = []
    for overrides in args.set_each or [[]]:
        m = end_to_end(args.songs, args.artists, overrides)
        rows.append([m["overrides"], f"{m['total_s']:.0f}", f"{m['train_s']:.0f}",
                     f"{100 * m['eval_s'] / m['train_s']:.1f} %", m["steps"], f"{100 * m['test_acc']:.1f} %",
                     f"{100 * m['tfidf_words']:.1f} %", f"{100 * m['tfidf_chars']:.1f} %",
                     f"{100 * m['majority']:.1f} %"])
        print(rows[-1], flush=True)
    header = ["config", "total s (load, baselines, training)", "training s", "evaluation share", "steps",
              "LSTM test acc", "TF-IDF words", "TF-IDF chars", "majority"]
    body = (f"## Scale end to end\n\nMachine: {machine()}  \nSynthetic corpus, {args.songs:,} songs by "
            f"{args.artists} artists (median ~200 words; invented words, so accuracies say little about real "
            "lyrics); whole training through the engine, baselines included, with the machine otherwise as it "
            "was (other work may run).\n\n" + table(header, rows))
    print(body)
    write_section("scale-end-to-end", body)


def torchrun_run(csv: str, procs: int, threads: int, runs: str) -> dict:
    """One epoch of the default config under torchrun with ``procs`` processes (evaluation at the end only)."""
    import os
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sets = ["epochs=1", "eval_every=100000", "baselines=0", f"threads={threads}"]
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={procs}", "--master-addr=127.0.0.1",
           f"--master-port={port}", "-m", "lyricsdash", "train", "--train", csv, "--quiet", "--json", "--runs-dir",
           runs, *[a for kv in sets for a in ("--set", kv)]]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    r = json.loads(out.stdout.strip().splitlines()[-1])
    summary = json.loads(RunFolder(r["run_dir"]).summary_path.read_text())
    steps_s = summary["train_seconds"] - (summary.get("eval_seconds") or 0.0)
    return {"procs": procs, "threads": threads, "tokens_per_s": summary["tokens"] / steps_s, "steps": r["steps"],
            "seconds": steps_s}


def processes_section(args) -> None:
    import tempfile

    tmp = tempfile.mkdtemp()
    csv = f"{tmp}/songs.csv"
    synthetic_songs(args.songs, args.artists, seed=2).to_csv(csv, index=False)
    rows = []
    for procs in args.processes:
        for threads in sorted({1, max(1, (os.cpu_count() or 1) // procs)}):
            m = torchrun_run(csv, procs, threads, f"{tmp}/runs")
            rows.append([m["procs"], m["threads"], m["steps"], f"{m['seconds']:.0f}", f"{m['tokens_per_s']:,.0f}"])
            print(rows[-1], flush=True)
    body = (f"## Scale out (torchrun)\n\nMachine: {machine()}  \nSynthetic corpus, {args.songs:,} songs by "
            f"{args.artists} artists; one epoch of the default config under `torch.distributed.run` (gloo), "
            "evaluation at the end only; tokens/s of the training steps (evaluation left out).\n\n"
            + table(["processes", "torch threads each", "global steps", "seconds", "training tokens/s"], rows)
            + "\n\n" + paper_table())
    print(body)
    write_section("scale-out", body)


def paper_table() -> str:
    """Gradient all-reduce volume per step against the compute per step, for two model sizes."""
    from lyricsdash.config import TrainConfig
    from lyricsdash.model import LyricsLSTM, ModelSpec, count_parameters

    rows = []
    for name, cfg, tokens in (("default (64/64 BiLSTM, windows 64)", TrainConfig(), 32 * 64),
                              ("reference (256 emb, 2 x LSTM 128, whole songs)",
                               TrainConfig(embed_dim=256, hidden_size=128, num_layers=2, bidirectional=False,
                                           batch_size=64), 64 * 250)):
        for vocab in (3_000, 30_000):
            model = LyricsLSTM(ModelSpec.from_config(cfg, vocab, 20))
            params = count_parameters(model)
            lstm = sum(p.numel() for n, p in model.named_parameters() if n.startswith("layers"))
            flops = 6 * lstm * tokens  # forward + backward of the gate matmuls, per step
            mb = 4 * params / 1e6  # fp32 gradients; a ring all-reduce sends and receives ~2x this per rank
            rows.append([name, f"{vocab:,}", f"{params:,}", f"{mb:.1f}", f"{2 * mb:.1f}", f"{flops / 1e9:.2f}",
                         f"{8 * 2 * mb / 1e3 / (flops / 1e12):.0f}"])
    return ("### On paper: gradient all-reduce volume per step against compute per step\n\n"
            "DDP all-reduces every gradient each step, the embedding's included (dense gradients). Per step and "
            "rank a ring all-reduce moves about 2x the gradient bytes. The last column is the network bandwidth "
            "at which sending them takes as long as computing the step on a device doing 1 TFLOP/s of LSTM work "
            "(a fast GPU does several): below it, more machines stop paying off.\n\n"
            + table(["model", "vocabulary", "parameters", "gradient MB", "MB moved per rank per step",
                     "GFLOP per step", "break-even Gbit/s at 1 TFLOP/s"], rows))


def measure(n_songs: int, steps: int) -> dict:
    import torch
    from speed import engine_tokens_per_s

    from lyricsdash.config import TrainConfig
    from lyricsdash.data import make_corpus
    from lyricsdash.prepare import prepare, tokenize_splits

    df = synthetic_songs(n_songs)
    t0 = time.perf_counter()
    corpus = make_corpus(df, seed=0)
    t_split = time.perf_counter() - t0
    cfg = TrainConfig()
    t0 = time.perf_counter()
    data = prepare(corpus, cfg, tokenize_splits(corpus, cfg, cache=False))  # no cache: measure the work itself
    samples = data.train
    t_encode = time.perf_counter() - t0
    tps = engine_tokens_per_s(data, cfg, steps, 0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"songs": n_songs, "train_tokens": samples.n_tokens, "vocab": len(data.vocab), "split_s": t_split,
            "encode_s": t_encode, "tokens_per_s": tps, "epoch_s": samples.n_tokens / tps, "peak_mb": peak_mb,
            "threads": torch.get_num_threads()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[5000, 10000, 20000, 50000])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size, print JSON
    p.add_argument("--end-to-end", action="store_true", help="train the default config to the end instead")
    p.add_argument("--songs", type=int, default=3000)
    p.add_argument("--artists", type=int, default=20)
    p.add_argument("--set-each", nargs="*", action="append", metavar="KEY=VALUE",
                   help="with --end-to-end: one config per --set-each (repeatable); default: the defaults")
    p.add_argument("--processes", type=int, nargs="*", help="torchrun with these process counts instead")
    args = p.parse_args()
    if args.processes:
        args.songs = args.songs if args.songs != 3000 else 20000
        args.artists = args.artists if args.artists != 20 else 100
        processes_section(args)
        return
    if args.end_to_end:
        end_to_end_section(args)
        return
    if args.one:
        print(json.dumps(measure(args.one, args.steps)))
        return
    rows = []
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--steps", str(args.steps)],
                             capture_output=True, text=True, check=True)
        m = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append([f"{m['songs']:,}", f"{m['train_tokens']:,}", f"{m['vocab']:,}", f"{m['split_s']:.2f}",
                     f"{m['encode_s']:.2f}", f"{1e6 * m['encode_s'] / m['train_tokens']:.2f}",
                     f"{m['tokens_per_s']:,.0f}", f"{m['epoch_s']:.0f}", f"{m['peak_mb']:,.0f}"])
        print(rows[-1], flush=True)
    header = ["songs", "training tokens (windows)", "vocab", "load+split s", "tokenize+vocab+encode s",
              "encode µs/token", "train tokens/s", "s/epoch (est.)", "peak RSS MB"]
    body = (f"## Scale\n\nMachine: {machine()}  \nSynthetic corpus, 100 artists, median ~200 words per song; default "
            f"config; s/epoch = training tokens / tokens/s measured over {args.steps} steps (no evaluation).\n\n"
            + table(header, rows))
    print(body)
    write_section("scale", body)


if __name__ == "__main__":
    main()
