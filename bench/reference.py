"""The reference homework design, reproduced honestly, for comparison only.

Embedding(256) -> 2 x LSTM(128) -> Linear on the output at the *last time step* of zero-padded batches
(pads included), Adam lr 0.01, batch 64, unsorted batches padded to their longest song. This is the design
that scored 44.19 % (the majority share); the project's engine does not work this way.
"""

from __future__ import annotations

import random
import time

import torch
import torch.nn.functional as F
from torch import nn

from lyricsdash.text import Vocab


class ReferenceLSTM(nn.Module):
    def __init__(self, vocab_size: int, num_classes: int, embed: int = 256, hidden: int = 128, layers: int = 2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, tokens):  # (B, T) zero-padded
        out, _ = self.lstm(self.embedding(tokens))  # (B, T, H)
        return self.head(out[:, -1])  # the last time step: a pad for every song shorter than the longest


def pad(seqs: list[list[int]]) -> torch.Tensor:
    t = torch.zeros(len(seqs), max(map(len, seqs)), dtype=torch.long)
    for i, s in enumerate(seqs):
        t[i, : len(s)] = torch.tensor(s)
    return t


def encode_all(token_lists, vocab: Vocab, max_len: int = 1000) -> list[list[int]]:
    return [vocab.encode(t)[:max_len] or [1] for t in token_lists]


def evaluate(model, seqs, labels, batch: int = 64) -> tuple[float, float]:
    model.eval()
    with torch.inference_mode():
        logits = torch.cat([model(pad(seqs[i:i + batch])) for i in range(0, len(seqs), batch)])
    model.train()
    y = torch.tensor(labels)
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


def train_reference(train, val, test, num_classes, vocab_size, epochs=5, seed=0, batch=64, lr=0.01):
    """train/val/test: (sequences, labels). Checkpoint chosen on validation. -> dict of results."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = ReferenceLSTM(vocab_size, num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    best, t0, tokens = (-1.0, None), time.perf_counter(), 0
    for _ in range(epochs):
        order = list(range(len(train[0])))
        rng.shuffle(order)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            tokens += train_step(model, opt, [train[0][j] for j in idx], [train[1][j] for j in idx])
            _, val_acc = evaluate(model, *val)
            if val_acc > best[0]:
                best = (val_acc, evaluate(model, *test)[1])
    seconds = time.perf_counter() - t0
    return {"val_acc": best[0], "test_acc": best[1], "seconds": seconds, "tokens_per_s": tokens / seconds,
            "params": sum(p.numel() for p in model.parameters())}


def train_step(model, opt, seqs, labels) -> int:
    """One reference step; returns the real (unpadded) tokens it trained on."""
    loss = F.cross_entropy(model(pad(seqs)), torch.tensor(labels))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return sum(map(len, seqs))
