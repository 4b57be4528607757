"""Language-model pretraining (ULMFiT-style) of the embedding and the LSTM on unlabelled lyrics, then default runs.

    python bench/lm_pretrain.py                          # kaggle_dev20: "all" over 3 seeds, the others seed 0
    python bench/lm_pretrain.py --variants lstm:3 --jobs 1

A bidirectional LSTM of the classifier's shape (embedding 64, 64 units a direction) reads 64-token windows of
``unlabelled_lyrics.csv`` (10,000 songs by artists of no other set: never a test or validation song), each song
as written and as plain text, as training reads them. Its forward direction predicts the next token, its backward
direction the previous one, through an adaptive softmax over the 20,000 most frequent tokens. Each run of the
default config then starts from it (``warm_start``): the embedding rows of the words both vocabularies share
and the LSTM's weights; the naive-Bayes table still fills the first C dimensions, as in every run. The encoder is
cached (``lyricsdash.cache.cached``), so a second call with the same songs skips the pretraining.
Writes the 'lm-pretrain' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from unittest import mock

import numpy as np
import pandas as pd
import torch
from _common import data_paths, machine, pct, table, write_section
from accuracy import DEV20, engine_run
from torch import nn

import lyricsdash.engine as engine
from lyricsdash.cache import cached, tokenize_many
from lyricsdash.config import TrainConfig
from lyricsdash.data import read_songs
from lyricsdash.nb import init_embedding, nb_log_ratios
from lyricsdash.text import PAD_ID, Vocab, is_mark

WINDOW, VOCAB, BATCH = 64, 20000, 64
# name -> (what it changes, engine overrides, which weights start pretrained, the encoder's learning-rate factor)
VARIANTS = {
    "all": ("embedding and LSTM pretrained", {}, ("embedding", "lstm"), 1.0),
    "lstm": ("LSTM pretrained, embedding as usual", {}, ("lstm",), 1.0),
    "slow": ("embedding and LSTM pretrained, their learning rate x 0.3", {}, ("embedding", "lstm"), 0.3),
    "nonb": ("embedding and LSTM pretrained, no naive-Bayes table (nb_init=0)", {"nb_init": "0"},
             ("embedding", "lstm"), 1.0),
}


class BiLM(nn.Module):
    """The classifier's embedding and one-layer BiLSTM, with a next-token and a previous-token head."""

    def __init__(self, vocab_size: int, dim: int = 64, hidden: int = 64):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.drop, self.hidden = nn.Dropout(0.2), hidden
        cutoffs = [c for c in (500, 3000) if c < vocab_size - 1]  # frequent tokens cheap, rare ones in tail clusters
        self.next = nn.AdaptiveLogSoftmaxWithLoss(hidden, vocab_size, cutoffs=cutoffs, div_value=4.0)
        self.prev = nn.AdaptiveLogSoftmaxWithLoss(hidden, vocab_size, cutoffs=cutoffs, div_value=4.0)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T) right-padded, lengths (B,) -> (next-token loss, previous-token loss), mean per token."""
        # only a song's last window is short, so the backward direction reading its pads first (unlike the
        # classifier, model.py) touches few positions
        h = self.drop(self.lstm(self.drop(self.embedding(x)))[0])  # (B, T, 2H)
        real = (torch.arange(x.shape[1])[None, :] < lengths[:, None])[:, 1:]  # (B, T-1) pairs of real tokens
        fwd, bwd = h[:, :-1, : self.hidden], h[:, 1:, self.hidden:]  # (B, T-1, H) each
        return self.next(fwd[real], x[:, 1:][real]).loss, self.prev(bwd[real], x[:, :-1][real]).loss


def lm_windows(texts: list[str]) -> tuple[Vocab, list[list[int]]]:
    """The LM's vocabulary and its windows: every song cased + punctuation and plain, cut into 64-token pieces."""
    cased = tokenize_many(texts, "cased+punct", "once")
    plain = [[t.casefold() for t in song if not is_mark(t)] for song in cased]
    vocab = Vocab.build(cased + plain, min_freq=3, max_size=VOCAB)
    windows = []
    for song in cased + plain:
        ids = vocab.encode(song)
        windows += [ids[s:s + WINDOW] for s in range(0, len(ids), WINDOW) if len(ids[s:s + WINDOW]) >= 8]
    return vocab, windows


def batches(windows: list[list[int]], steps: int, rng: np.random.Generator):
    """``steps`` batches of shuffled windows, epoch after epoch -> (tokens (B, T) right-padded, lengths (B,))."""
    step = 0
    while True:
        order = rng.permutation(len(windows))
        for i in range(0, len(order), BATCH):
            if step == steps:
                return
            rows = [torch.tensor(windows[j]) for j in order[i:i + BATCH]]
            yield nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=PAD_ID), \
                torch.tensor([len(r) for r in rows])
            step += 1


def pretrain(texts: list[str], epochs: float, seed: int = 0) -> tuple[dict, dict]:
    """-> (encoder: itos, embedding (V, E), lstm state_dict; report: vocabulary, windows, perplexities, seconds)."""
    torch.manual_seed(seed)
    vocab, windows = lm_windows(texts)
    model = BiLM(len(vocab))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    steps = math.ceil(len(windows) / BATCH * epochs)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, engine._lr_lambda(TrainConfig(schedule="cosine"), steps))
    t0, last = time.perf_counter(), []
    for step, (x, lengths) in enumerate(batches(windows, steps, np.random.default_rng(seed)), start=1):
        fwd, bwd = model(x, lengths)
        opt.zero_grad()
        (fwd + bwd).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        last = (last + [(fwd.item(), bwd.item())])[-100:]
        if step % 200 == 0:
            print(f"pretraining step {step}/{steps}: next-token loss {fwd.item():.2f}, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    f, b = np.mean(last, axis=0)
    report = {"vocabulary": len(vocab), "windows": len(windows), "steps": steps, "seconds": time.perf_counter() - t0,
              "next_ppl": math.exp(f), "prev_ppl": math.exp(b)}
    encoder = {"itos": vocab.itos, "embedding": model.embedding.weight.detach().clone(),
               "lstm": model.lstm.state_dict()}
    return encoder, report


@contextlib.contextmanager
def warm_start(encoder: dict, parts: tuple[str, ...], lr_factor: float):
    """Every model the engine builds inside starts from ``encoder`` (the NB table, if any, rewritten on top)."""
    build = engine.build_model

    def build_model(data, cfg):
        model = build(data, cfg)
        with torch.no_grad():
            if "embedding" in parts:
                index = {w: i for i, w in enumerate(encoder["itos"])}
                for i, w in enumerate(data.vocab.itos[2:], start=2):  # <pad> and <unk> keep theirs
                    if w in index:
                        model.embedding.weight[i] = encoder["embedding"][index[w]]
                if cfg.nb_init > 0:
                    init_embedding(model.embedding, nb_log_ratios(data.train, len(data.vocab), len(data.labels)),
                                   cfg.nb_init)
            if "lstm" in parts:
                model.layers[0].load_state_dict(encoder["lstm"])
        return model

    def make_optimizer(model, cfg, total_steps):
        enc = [p for n, p in model.named_parameters() if n.startswith(("embedding.", "layers.0."))]
        rest = [p for n, p in model.named_parameters() if not n.startswith(("embedding.", "layers.0."))]
        opt = torch.optim.AdamW([{"params": enc, "lr": cfg.lr * lr_factor}, {"params": rest}], lr=cfg.lr,
                                weight_decay=cfg.weight_decay)
        return opt, torch.optim.lr_scheduler.LambdaLR(opt, engine._lr_lambda(cfg, total_steps))

    with mock.patch.object(engine, "build_model", build_model), \
            mock.patch.object(engine, "make_optimizer", make_optimizer):
        yield


def one_run(job) -> tuple[str, int, dict]:
    name, seed, encoder, train_df, test_df = job
    _, overrides, parts, lr_factor = VARIANTS[name]
    with warm_start(encoder, parts, lr_factor):
        return name, seed, engine_run(train_df, test_df, seed, overrides)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", default="all:3,lstm:1,slow:1,nonb:1",
                   help=f"comma-separated NAME:SEEDS on kaggle_dev20 (seeds 0..SEEDS-1); names: {', '.join(VARIANTS)}")
    p.add_argument("--songs", type=int, default=10000, help="unlabelled songs to pretrain on")
    p.add_argument("--epochs", type=float, default=2.0, help="passes of pretraining over them")
    p.add_argument("--jobs", type=int, default=2, help="runs at once (one torch thread each)")
    args = p.parse_args()
    seeds = {}
    for v in filter(None, (v.strip() for v in args.variants.split(","))):
        name, _, k = v.partition(":")
        if name not in VARIANTS or not k.isdigit() or int(k) < 1:
            p.error(f"--variants: {v!r} is not NAME:SEEDS with NAME one of {', '.join(VARIANTS)} and SEEDS >= 1")
        seeds[name] = int(k)
    names = list(seeds)
    torch.set_num_threads(1)
    folder = data_paths(None, None)[0].parent
    texts = pd.read_csv(folder / "unlabelled_lyrics.csv")["text"].astype(str).tolist()[:args.songs]
    encoder, rep = cached(pretrain)(texts, args.epochs)
    train_df, test_df = (read_songs(folder / f)[0] for f in DEV20)
    jobs = [(n, s, encoder, train_df, test_df) for n in names for s in range(seeds[n])]
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(one_run, jobs))
    rows = []
    for n in names:
        r = [run for name, _, run in runs if name == n]
        acc = [x["test_acc"] for x in r]
        loss = statistics.mean(x["test_loss"] for x in r)
        rows.append([VARIANTS[n][0], len(r), pct(statistics.mean(acc)), f"{pct(min(acc))}-{pct(max(acc))}",
                     pct(statistics.mean(x["plain_acc"] for x in r)), f"{loss:.2f}",
                     f"{min(x['seconds'] for x in r):.0f}-{max(x['seconds'] for x in r):.0f}"])
    body = (f"## Lm-pretrain\n\n{machine()}, {args.jobs} runs at once.  \n"
            f"Pretraining: {args.songs:,} songs of unlabelled_lyrics.csv, {rep['windows']:,} windows, vocabulary "
            f"{rep['vocabulary']:,}, {args.epochs:g} epochs ({rep['steps']:,} steps of {BATCH}), perplexity of the "
            f"last 100 steps: next token {rep['next_ppl']:.0f}, previous token {rep['prev_ppl']:.0f}; "
            f"{rep['seconds']:.0f} s.  \nkaggle_dev20 from seed 0 on, default config otherwise (section distill-dev20: "
            "50.91 % over 3 seeds, seed 0 51.72 %).\n\n"
            + table(["change from the default", "runs", "mean test acc", "range", "plain-copy acc", "test CE",
                     "seconds/run"], rows))
    print(body)
    write_section("lm-pretrain", body)


if __name__ == "__main__":
    main()
