"""Scale: a generated corpus of 5,000 to 50,000 songs by 100 artists.

    python bench/scale.py [--sizes 5000 10000 20000 50000] [--steps 40]

For each size, in a fresh subprocess (so peak memory is that size's own): loading + splitting time,
tokenizing + vocabulary + encoding time, peak resident memory, and seconds per epoch of the default
config (timed over --steps training steps, then scaled to the epoch's step count, evaluation excluded).
The corpus is synthetic (invented words); only the cost is measured here, not accuracy.
Writes the 'scale' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time

from _common import machine, table, write_section


def synthetic_songs(n_songs: int, n_artists: int = 100, seed: int = 0):
    import pandas as pd

    rng = random.Random(seed)
    common = [f"w{i}" for i in range(3000)]
    rows = []
    for i in range(n_songs):
        a = i % n_artists
        own = [f"a{a}x{j}" for j in range(60)]
        n_words = int(rng.lognormvariate(5.3, 0.45))  # median ~200 words, like the lyrics
        words = [rng.choice(own) if rng.random() < 0.2 else rng.choice(common) for _ in range(n_words)]
        rows.append((f"Artist {a}", f"song {i}", " ".join(words)))
    return pd.DataFrame(rows, columns=["artist", "song", "text"])


def measure(n_songs: int, steps: int) -> dict:
    import torch
    from speed import engine_tokens_per_s

    from lyricsdash.batches import encode
    from lyricsdash.cache import tokenize_many
    from lyricsdash.config import TrainConfig
    from lyricsdash.data import make_corpus
    from lyricsdash.text import Vocab

    df = synthetic_songs(n_songs)
    t0 = time.perf_counter()
    corpus = make_corpus(df, seed=0)
    t_split = time.perf_counter() - t0
    cfg = TrainConfig()
    t0 = time.perf_counter()
    tokens = tokenize_many(corpus.train["text"], min_chars=10**12)  # no cache: measure the work itself
    vocab = Vocab.build(tokens, cfg.min_freq, cfg.max_vocab)
    ids = {a: i for i, a in enumerate(corpus.labels)}
    labels = [ids[a] for a in corpus.train["artist"]]
    samples = encode(tokens, labels, vocab, cfg)
    t_encode = time.perf_counter() - t0
    tps = engine_tokens_per_s(tokens, labels, vocab, cfg, steps, 0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"songs": n_songs, "train_tokens": samples.n_tokens, "vocab": len(vocab), "split_s": t_split,
            "encode_s": t_encode, "tokens_per_s": tps, "epoch_s": samples.n_tokens / tps, "peak_mb": peak_mb,
            "threads": torch.get_num_threads()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[5000, 10000, 20000, 50000])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size, print JSON
    args = p.parse_args()
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
