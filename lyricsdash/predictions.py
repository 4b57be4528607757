"""The test-predictions table of a run (``test_predictions.csv``): one row per test song."""

from __future__ import annotations

import pandas as pd


def test_table(result, titles: list[str]) -> pd.DataFrame:
    """One row per test song: title, true artist, predicted artist, probability of the true one, right or not,
    and every artist's probability."""
    labels, probs = result.labels, result.test_probs
    pred = [max(range(len(labels)), key=p.__getitem__) for p in probs]
    rows = [{"song": titles[i] if i < len(titles) else f"song {i + 1}", "artist": labels[t],
             "predicted": labels[pred[i]], "p_true": probs[i][t], "correct": pred[i] == t,
             **{f"p({a})": probs[i][j] for j, a in enumerate(labels)}} for i, t in enumerate(result.test_labels)]
    return pd.DataFrame(rows)
