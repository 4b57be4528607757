"""The classifier: Embedding -> stacked LSTM over packed sequences -> pooling -> Linear.

Varied length is handled by packing: ``pack_padded_sequence`` with the true
lengths means the LSTM never reads a pad, and every pooling mode looks only
at real positions. A song's logits are therefore the same alone, in a batch
with a much longer song, or with extra pad columns (tests/test_model.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .text import PAD_ID


@dataclass
class ModelSpec:
    """Everything needed to rebuild the module from a state_dict."""

    vocab_size: int
    num_classes: int
    embed_dim: int = 64
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.5
    pooling: str = "mean"

    def to_dict(self) -> dict:
        return asdict(self)


class LyricsLSTM(nn.Module):
    def __init__(self, spec: ModelSpec):
        super().__init__()
        if spec.pooling not in ("last", "mean", "max"):
            raise ValueError(f"unknown pooling {spec.pooling!r}")
        self.spec = spec
        dirs = 2 if spec.bidirectional else 1
        self.embedding = nn.Embedding(spec.vocab_size, spec.embed_dim, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(spec.embed_dim, spec.hidden_size, num_layers=spec.num_layers, batch_first=True,
                            bidirectional=spec.bidirectional,
                            dropout=spec.dropout if spec.num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(spec.dropout)
        self.head = nn.Linear(spec.hidden_size * dirs, spec.num_classes)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) int64, right-padded with 0; lengths (B,) true lengths >= 1 -> logits (B, C)."""
        x = self.dropout(self.embedding(tokens))  # (B, T, E)
        out, h_n = self._run_lstm(x, lengths)  # (B, T, H * dirs), (layers * dirs, B, H)
        if self.spec.pooling == "last":
            pooled = self._last(h_n)  # (B, H * dirs)
        else:
            mask = (torch.arange(tokens.shape[1], device=tokens.device)[None, :]
                    < lengths.to(tokens.device)[:, None]).unsqueeze(-1)  # (B, T, 1)
            pooled = self._pool(out, mask, lengths.to(out.device))
        return self.head(self.dropout(pooled))  # (B, C)

    def _run_lstm(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The LSTM over real positions only.

        A batch without padding (the usual case with windows) runs as a plain tensor: the same numbers, and
        the fused CPU kernel is several times faster than the PackedSequence path. Otherwise it is packed.
        """
        if int(lengths.min()) == x.shape[1]:
            out, (h_n, _) = self.lstm(x)
            return out, h_n
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, (h_n, _) = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out, h_n

    def _last(self, h_n: torch.Tensor) -> torch.Tensor:
        """Final hidden state of the top layer, both directions: the state after each song's real last word."""
        dirs = 2 if self.spec.bidirectional else 1
        top = h_n[-dirs:]  # (dirs, B, H)
        return top.transpose(0, 1).reshape(h_n.shape[1], -1)  # (B, H * dirs)

    def _pool(self, out: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.spec.pooling == "mean":
            return (out * mask).sum(1) / lengths[:, None].to(out.dtype)  # (B, H * dirs)
        return out.masked_fill(~mask, float("-inf")).max(1).values  # (B, H * dirs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def describe(model: LyricsLSTM) -> str:
    """One-line architecture, as the assignment's report asks."""
    s = model.spec
    lstm = f"{s.num_layers} x {'Bi' if s.bidirectional else ''}LSTM({s.hidden_size})"
    return (f"Embedding({s.vocab_size}, {s.embed_dim}) -> {lstm} over packed sequences -> {s.pooling}-pool -> "
            f"Dropout({s.dropout}) -> Linear({s.hidden_size * (2 if s.bidirectional else 1)}, {s.num_classes})")
