"""Every run's scalars as one long table (run, step, name, value) with its settings, for pandas or a
spreadsheet: what W&B's and MLflow's exports give."""

from __future__ import annotations

import os

import pandas as pd

from .records import FLAGS, RECORD_FIELDS
from .runs import RunFolder, list_runs, run_path, runs_root

KEYS = ["run", "run_name", "status", "step", "name", "value"]
NAMES = [f for f in RECORD_FIELDS if f != "step" and f not in FLAGS]


def long_table(root: str | os.PathLike | None = None) -> tuple[pd.DataFrame, list[str]]:
    """-> (one row per run, step and metric that has a value, then one column per setting; warnings for
    folders skipped as broken). Steps without an evaluation have no test or validation rows, as in metrics.csv."""
    runs, warnings = list_runs(root)
    parts = []
    for s in reversed(runs):  # oldest first
        metrics = RunFolder(run_path(runs_root(root), s.run_id)).metrics()
        long = metrics.melt(id_vars="step", value_vars=NAMES, var_name="name").dropna(subset=["value"])
        long["name"] = pd.Categorical(long["name"], NAMES)
        long = long.sort_values(["step", "name"], kind="stable").astype({"step": int, "name": str})
        meta = {"run": s.run_id, "run_name": s.annotations.get("name", ""), "status": s.status}
        parts.append(long.assign(**meta, **{k: _cell(v) for k, v in s.config.items()}))
    if not parts:
        return pd.DataFrame(columns=KEYS), warnings
    table = pd.concat(parts, ignore_index=True)
    return table[KEYS + [c for c in table.columns if c not in KEYS]], warnings


def _cell(value):
    return value if isinstance(value, (bool, int, float, str)) or value is None else str(value)
