"""Speed: training tokens/s of the engine vs the reference loop, time to final accuracy, predict latency,
and the share of this machine's matmul FLOP/s that LSTM training reaches.

    python bench/speed.py [--train CSV --test CSV] [--steps 30] [--rounds 3]

Tokens are real (unpadded) training words. Both loops run in this one process, alternating rounds.
Writes the 'speed' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from _common import data_paths, machine, table, write_section
from reference import ReferenceLSTM, encode_all, train_step

from lyricsdash.batches import bucket_batches, collate, encode
from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus
from lyricsdash.engine import auto_threads, model_spec, train
from lyricsdash.model import LyricsLSTM
from lyricsdash.predictor import Predictor
from lyricsdash.runs import RunRecorder
from lyricsdash.text import Vocab, tokenize

REF_SIZES = {"embed_dim": 256, "hidden_size": 128, "num_layers": 2, "bidirectional": False, "pooling": "last"}


def reference_tokens_per_s(token_lists, labels, vocab, steps, seed) -> float:
    """The reference loop: unsorted batches of 64 whole songs padded to the longest, no packing."""
    torch.manual_seed(seed)
    model = ReferenceLSTM(len(vocab), max(labels) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    seqs, rng = encode_all(token_lists, vocab), random.Random(seed)
    tokens, t0 = 0, time.perf_counter()
    for _ in range(steps):
        idx = rng.sample(range(len(seqs)), 64)
        tokens += train_step(model, opt, [seqs[i] for i in idx], [labels[i] for i in idx])
    return tokens / (time.perf_counter() - t0)


def engine_tokens_per_s(token_lists, labels, vocab, cfg: TrainConfig, steps, seed) -> float:
    """The engine's own step (bucketed batches, packed sequences) with the given config, no evaluation."""
    torch.manual_seed(seed)
    samples = encode(token_lists, labels, vocab, cfg)
    model = LyricsLSTM(model_spec(cfg, len(vocab), max(labels) + 1))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    y_all = torch.as_tensor(samples.labels[samples.song])
    batches = bucket_batches(samples.lengths, cfg.batch_size, random.Random(seed))
    tokens, t0 = 0, time.perf_counter()
    for i in range(steps):
        idx = batches[i % len(batches)]
        x, lengths = collate([samples.seqs[j] for j in idx])
        loss = F.cross_entropy(model(x, lengths), y_all[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        tokens += int(lengths.sum())
    return tokens / (time.perf_counter() - t0)


def train_set(corpus, min_freq: int):
    """The training songs as (token lists, class ids, vocabulary)."""
    token_lists = [tokenize(t) for t in corpus.train["text"]]
    ids = {a: i for i, a in enumerate(corpus.labels)}
    return token_lists, [ids[a] for a in corpus.train["artist"]], Vocab.build(token_lists, min_freq)


def throughput(corpus, steps, rounds) -> list[list]:
    token_lists, labels, vocab = train_set(corpus, 1)
    variants = {
        "reference loop (pad to longest, unsorted, last step), batch 64": None,
        "engine, reference sizes, whole songs bucketed+packed, batch 64":
            TrainConfig(**REF_SIZES, length_strategy="whole", batch_size=64),
        "engine, reference sizes, windows 64/32, batch 64": TrainConfig(**REF_SIZES, batch_size=64),
        "engine default config": TrainConfig(),
    }
    results = {k: [] for k in variants}
    for r in range(rounds):  # alternate so that machine noise hits every variant alike
        for name, cfg in variants.items():
            tps = reference_tokens_per_s(token_lists, labels, vocab, steps, r) if cfg is None else \
                engine_tokens_per_s(token_lists, labels, vocab, cfg, steps, r)
            results[name].append(tps)
            print(f"round {r} {name}: {tps:,.0f} tokens/s", flush=True)
    ref = statistics.median(results[next(iter(variants))])
    return [[name, f"{statistics.median(v):,.0f}", f"{statistics.median(v) / ref:.2f}x"]
            for name, v in results.items()]


def time_to_accuracy(corpus) -> tuple[list[list], str]:
    runs = tempfile.mkdtemp()
    rec = RunRecorder(runs)
    r = train(corpus, TrainConfig(), [rec])
    at_best = next(h for h in r.history if h["step"] == r.best.step)
    rows = [["default config, total training wall-clock (incl. per-step evaluation)", f"{r.train_seconds:.1f} s"],
            [f"time until the validation-chosen checkpoint (step {r.best.step} of {r.steps})",
             f"{at_best['elapsed_s']:.1f} s"],
            ["test accuracy of that checkpoint", f"{100 * r.best.test_acc:.2f} %"],
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
    tps = engine_tokens_per_s(*train_set(corpus, cfg.min_freq), cfg, 40, 0)
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
