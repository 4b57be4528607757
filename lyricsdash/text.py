"""Tokenizer and vocabulary.

Tokenizer choice: Unicode NFKC, case-folded, words of letters/digits that
keep *inner* apostrophes ("don't", "rock'n'roll") while dropping outer ones
("lovin'" -> "lovin"). Curly apostrophes count as straight ones. Punctuation
is dropped: artist style lives in word choice far more than in commas, and
this keeps the vocabulary small on 400 songs. Works for any script that
Unicode calls letters (accents, Cyrillic, Arabic, CJK runs).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def tokenize(text: str) -> list[str]:
    """Lyrics -> lower-case words with inner apostrophes kept."""
    return _WORD.findall(normalize(text).casefold())


def normalize(text: str) -> str:
    """What the tokenizer reads before case-folding: NFKC, one kind of apostrophe."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)


def word_spans(text: str) -> list[tuple[int, int]] | None:
    """Where ``tokenize``'s words lie in ``normalize(text)``: (start, end) each, or None in the rare text where
    case-folding moves a word boundary (then no span list matches the words)."""
    norm = normalize(text)
    spans = [m.span() for m in _WORD.finditer(norm)]
    return spans if [norm[a:b].casefold() for a, b in spans] == tokenize(text) else None


class Vocab:
    """Word <-> id map; id 0 is padding, id 1 the unknown word."""

    def __init__(self, itos: list[str]):
        if itos[:2] != [PAD, UNK] or len(set(itos)) != len(itos):
            raise ValueError("a vocabulary must start with <pad>, <unk> and hold no duplicates")
        self.itos = list(itos)
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, token_lists: Iterable[list[str]], min_freq: int = 1, max_size: int | None = None) -> Vocab:
        """Most frequent words first (ties alphabetical), each seen at least ``min_freq`` times."""
        counts = Counter(w for toks in token_lists for w in toks)
        words = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
        if max_size is not None:
            words = words[: max(0, max_size - 2)]
        return cls([PAD, UNK, *words])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: list[str]) -> list[int]:
        get = self.stoi.get
        return [get(w, UNK_ID) for w in tokens]

    def to_json(self) -> str:
        return json.dumps({"itos": self.itos}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocab:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("itos"), list) \
                or not all(isinstance(w, str) for w in data["itos"]):
            raise ValueError("vocab.json must be an object with a list of strings under 'itos'")
        return cls(data["itos"])
