"""A small synthetic demo corpus: invented artists, invented lyrics.

It exists so that a fresh clone with no real data trains and predicts in
seconds. Nothing here is a real song. Each invented artist draws most words
from a shared pool and some from a theme of its own; a share of "borrowed"
words from other themes keeps the task from being trivial.
"""

from __future__ import annotations

import random

import pandas as pd

DEMO_LABEL = "Demo corpus (synthetic, invented lyrics)"

_SHARED = ("i you we the a and to in of my your me love oh yeah night day heart time baby "
           "go come know say see feel way all now never again here there with on").split()

_THEMES = {
    "Demo · Harbor Lights": "sea wave harbor sail anchor tide salt shore lighthouse gull storm drift boat "
                            "captain deck rope blue deep horizon mist ocean island compass",
    "Demo · Dust Road Prophets": "road dust train whiskey desert highway boots gravel preacher river "
                                 "mountain coal rail freight hobo lonesome prairie wagon dirt sun mule",
    "Demo · Velvet Disco Club": "dance floor groove mirror ball glitter disco funky shine boogie rhythm "
                                "light midnight city neon party fever spin strobe velvet sparkle",
}


def demo_songs(n_per_artist: int = 60, seed: int = 1234) -> pd.DataFrame:
    """Deterministic synthetic songs with columns artist, song, text."""
    rng = random.Random(seed)
    themes = {a: w.split() for a, w in _THEMES.items()}
    rows = []
    for artist, words in themes.items():
        others = [w for a, ws in themes.items() if a != artist for w in ws]
        for i in range(n_per_artist):
            rows.append((artist, f"Synthetic song {i + 1}", _song(rng, words, others)))
    return pd.DataFrame(rows, columns=["artist", "song", "text"])


def _song(rng: random.Random, theme: list[str], others: list[str]) -> str:
    verses = []
    for _ in range(rng.randint(2, 6)):
        lines = []
        for _ in range(rng.randint(2, 6)):
            pool = [rng.choice(_SHARED if r < 0.45 else theme if r < 0.9 else others)
                    for r in (rng.random() for _ in range(rng.randint(3, 9)))]
            lines.append(" ".join(pool).capitalize())
        verses.append("\n".join(lines))
    return "\n\n".join(verses)


def demo_split(seed: int = 1234) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) frames of the demo corpus: 50 and 10 songs per artist."""
    df = demo_songs(60, seed)
    test = df.groupby("artist", sort=True).tail(10)
    return df.drop(test.index).reset_index(drop=True), test.reset_index(drop=True)


def demo_corpus(val_fraction: float = 0.1, seed: int = 0):
    """The demo split as a Corpus, labelled as synthetic."""
    from .data import make_corpus

    train, test = demo_split()
    return make_corpus(train, test, val_fraction=val_fraction, seed=seed, name=DEMO_LABEL)
