"""Tokenizer and vocabulary.

Three kinds of tokens (``TrainConfig.tokens``):

* ``words``: case-folded words of letters/digits that keep *inner* apostrophes ("don't", "rock'n'roll");
  punctuation is dropped. The classic bag-of-words view.
* ``words+punct``: the same words, and each punctuation mark as a token of its own.
* ``cased+punct``: words as written (case kept) and each punctuation mark.

Why punctuation and case count: artists differ in how their lyrics are *written* as much as in their words
(commas, dashes, "lovin'" against "loving", capitalised lines). TF-IDF + LR on the assignment split scores
74.4 % with ``words``, 79.1 % with ``words+punct`` and 88.4 % with ``cased+punct`` (bench/results.md).
Repeated lines (``TrainConfig.repeats``): with ``once``, a line whose words (case-folded) an earlier line of the
song already had is skipped, so a chorus sung four times is read once. Why: lyrics repeat whole lines, and a
reader that counts every position lets the chorus outweigh the verses. TF-IDF gets its robustness from
sublinear term frequency; on kaggle_dev20 a linear model on plain term frequencies gains 4.2 points from reading
each line once, and a neural bag of words 2.0 (bench/results.md, section repeats).

Character n-grams (``char_grams``): a word's case-folded 2- to 5-letter pieces, a space each side, as the
character TF-IDF baseline reads them, hashed (CRC-32, stable across machines and runs) into a fixed number of
buckets. They reach the model through the song context (``TrainConfig.context``): spelling, affixes and the words
too rare for the vocabulary, which a word's id cannot carry.

Everything is read after Unicode NFKC with one kind of apostrophe; works for any script that Unicode calls
letters (accents, Cyrillic, Arabic, CJK runs). An outer apostrophe ("lovin'") is a punctuation mark.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_WORD_OR_MARK = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]|_")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
TOKEN_KINDS = ("words", "words+punct", "cased+punct")
LEGACY_KIND = "words"  # what runs saved before the setting existed read
REPEATS = ("all", "once")
LEGACY_REPEATS = "all"  # runs saved before the setting existed read every line


def _pattern(kind: str) -> re.Pattern:
    if kind not in TOKEN_KINDS:
        raise ValueError(f"unknown token kind {kind!r}; one of {', '.join(TOKEN_KINDS)}")
    return _WORD if kind == "words" else _WORD_OR_MARK


def tokenize(text: str, kind: str = LEGACY_KIND, repeats: str = LEGACY_REPEATS) -> list[str]:
    """Lyrics -> tokens of ``kind``, every line or each distinct line once (see the module docstring)."""
    norm = normalize(text)
    if repeats == "once":
        norm = "".join(norm[a:b] for a, b in _lines(norm, repeats))
    return _pattern(kind).findall(_fold(kind)(norm))


def _lines(norm: str, repeats: str) -> list[tuple[int, int]]:
    """(start, end) of the parts of ``norm`` that are read: every line, or each distinct line once."""
    return distinct_lines(norm) if repeats == "once" else [(0, len(norm))]


def _fold(kind: str):
    """What a token kind does to case before matching: nothing for cased+punct, case-folding otherwise."""
    return (lambda w: w) if kind == "cased+punct" else str.casefold


def distinct_lines(norm: str) -> list[tuple[int, int]]:
    """(start, end) of each line of ``norm`` read with repeats=once: lines whose case-folded words no earlier
    line had, and lines without words. Each line keeps its line break, so the spans tile the lines read."""
    seen, out, pos = set(), [], 0
    for line in norm.splitlines(keepends=True):
        key = " ".join(_WORD.findall(line.casefold()))
        if not key or key not in seen:
            out.append((pos, pos + len(line)))
            seen.add(key)
        pos += len(line)
    return out


def normalize(text: str) -> str:
    """What the tokenizer reads before any case-folding: NFKC, one kind of apostrophe."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)


def plain(text: str) -> str:
    """Lyrics as many sites write them: lower-case words, no punctuation (inner apostrophes kept), one line per
    line of words (a line break is not punctuation)."""
    lines = (" ".join(tokenize(line, "words")) for line in normalize(text).splitlines())
    return "\n".join(line for line in lines if line)


def is_mark(token: str) -> bool:
    """A punctuation-mark token (not a word)."""
    return len(token) == 1 and _WORD.fullmatch(token) is None


GRAM_SIZES = range(2, 6)  # a word's character n-gram sizes, for the model and the char TF-IDF baseline alike


def char_grams(tokens: Iterable[str], buckets: int) -> list[int]:
    """Tokens -> the distinct hashed character n-grams of their words (in [0, buckets)), sorted. Punctuation
    marks have none; case is folded, so a pasted plain text keeps its words' n-grams."""
    grams = set()
    for token in set(tokens):
        if not is_mark(token) and token not in (PAD, UNK):
            grams |= _word_grams(token, buckets)
    return sorted(grams)


@lru_cache(maxsize=1 << 17)
def _word_grams(word: str, buckets: int) -> frozenset[int]:
    w = f" {word.casefold()} "
    return frozenset(zlib.crc32(w[i:i + n].encode()) % buckets for n in GRAM_SIZES for i in range(len(w) - n + 1))


@dataclass(frozen=True)
class Reading:
    """A text as a model reads it, read once: the normalized text, its tokens, and where each token lies."""

    text: str  # normalize(text): what the spans index
    tokens: list[str]  # tokenize(text, kind, repeats)
    spans: list[tuple[int, int]] | None  # (start, end) per token; None in the rare text where case-folding moves
    # a token boundary (then no span list matches the tokens). Lines skipped by repeats=once get no span.


def read(text: str, kind: str = LEGACY_KIND, repeats: str = LEGACY_REPEATS) -> Reading:
    """``tokenize``'s tokens with their places in the text, for a reader that shows them (the Classify page)."""
    norm, pattern, fold = normalize(text), _pattern(kind), _fold(kind)
    lines = _lines(norm, repeats)
    tokens = [t for a, b in lines for t in pattern.findall(fold(norm[a:b]))]  # no token crosses a line break
    spans = [(a + m.start(), a + m.end()) for a, b in lines for m in pattern.finditer(norm[a:b])]
    return Reading(norm, tokens, spans if [fold(norm[a:b]) for a, b in spans] == tokens else None)


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
