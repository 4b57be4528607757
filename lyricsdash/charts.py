"""Plotly figures of a run's metrics (shared by the CLI report and the dashboard)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .records import full_mask

COLORS = {"train": "#1f77b4", "test": "#d62728", "val": "#2ca02c"}
BASELINE_COLORS = {"majority": "#7f7f7f", "tfidf_words": "#9467bd", "tfidf_tokens": "#8c564b",
                   "tfidf_chars": "#ff7f0e"}
MAX_POINTS = 2000  # points drawn per curve at most


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's exponential moving average with debiasing; NaNs are skipped, not spread."""
    out = np.full(len(values), np.nan)
    last, n = 0.0, 0
    for i, v in enumerate(values):
        if np.isnan(v):
            continue
        last, n = last * weight + (1 - weight) * v, n + 1
        out[i] = last / (1 - weight**n) if weight > 0 else v
    return out


def full_rows(df: pd.DataFrame) -> np.ndarray:
    """Positions of the full evaluations (``records.is_full``) in a run that also has rolling ones; none where
    there is nothing to tell apart."""
    full = full_mask(df).to_numpy()
    rolled = df["val_acc"].notna().to_numpy() & ~full if "val_acc" in df else np.zeros_like(full)
    return np.flatnonzero(full) if rolled.any() else np.array([], dtype=int)


def downsample(df: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """Evenly spaced rows (the last and the full evaluations kept) so that long runs stay quick to draw."""
    if len(df) <= max_points:
        return df
    idx = np.linspace(0, len(df) - 1, max_points).astype(int)
    return df.iloc[np.unique(np.concatenate([idx, [len(df) - 1], full_rows(df)]))]


def _curves(fig, df, x, metric, smoothing, row=None, raw=True):
    """Add train/test/val curves of ``metric`` ('loss' or 'acc') to ``fig``; with smoothing, the raw curve
    faint underneath unless ``raw`` is off (live charts: half the traces for the browser to redraw)."""
    full = df.iloc[full_rows(df)]  # dots on the validation and test curves
    for split in ("train", "test", "val"):
        col = f"{split}_{metric}"
        if col not in df or df[col].isna().all():
            continue
        part = df[[x, col]].dropna()
        xs, ys = part[x].to_numpy(float), part[col].to_numpy(float)
        name = {"train": "train (batch)", "test": "test", "val": "validation"}[split]
        kw = {"row": row, "col": 1} if row else {}
        if smoothing > 0:
            if raw:
                fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": COLORS[split], "width": 1},
                                         opacity=0.25, showlegend=False, hoverinfo="skip"), **kw)
            ys = smooth(ys, smoothing)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"{name} {metric}", legendgroup=split,
                                   line={"color": COLORS[split], "width": 2}), **kw)
        if split != "train" and not full.empty:  # between these dots the values roll (evaluate.Rolling)
            fig.add_trace(go.Scatter(x=full[x], y=full[col], mode="markers", legendgroup=split, showlegend=False,
                                     marker={"color": COLORS[split], "size": 7}, name=f"{name} {metric}, full",
                                     hovertemplate="%{y:.3f}, every song scored at this step<extra></extra>"), **kw)


def _axis_title(x: str) -> str:
    return {"step": "global batch step", "elapsed_s": "wall time (s)"}[x]


def _per(x: str) -> str:
    return {"step": "per global step", "elapsed_s": "over wall time"}[x]


def loss_figure(df, *, x="step", smoothing=0.0, log_y=False, best_step=None, max_points=MAX_POINTS,
                raw=True) -> go.Figure:
    fig = go.Figure()
    _curves(fig, downsample(df, max_points), x, "loss", smoothing, raw=raw)
    fig.update_layout(title=f"Error (cross-entropy) {_per(x)}", xaxis_title=_axis_title(x),
                      yaxis_title="cross-entropy", **_LAYOUT)
    if log_y:  # plain decimal ticks (0.1, 0.2, 0.5, 1, 2) instead of plotly's 2, 5 minor labels
        fig.update_yaxes(type="log", dtick="D1", tickformat=".2~g", minor={"showgrid": False})
    _mark_best(fig, df, x, best_step)
    return fig


def accuracy_figure(df, *, x="step", smoothing=0.0, best_step=None, max_points=MAX_POINTS,
                    baselines: dict | None = None, raw=True) -> go.Figure:
    fig = go.Figure()
    _curves(fig, downsample(df, max_points), x, "acc", smoothing, raw=raw)
    fig.update_layout(title=f"Accuracy {_per(x)}", xaxis_title=_axis_title(x), yaxis_title="accuracy",
                      yaxis_range=[0, 1.02], **_LAYOUT)
    _mark_best(fig, df, x, best_step)
    add_baselines(fig, baselines)
    return fig


def add_baselines(fig: go.Figure, baselines: dict | None, **where) -> None:
    """Each baseline's test accuracy as a labelled dashed horizontal line."""
    for name, b in (baselines or {}).items():
        acc = b.get("test_acc")
        if acc is None or acc != acc:
            continue
        fig.add_hline(y=acc, line_dash="dash", line_width=1.5, line_color=BASELINE_COLORS.get(name, "#555"),
                      annotation_text=f"{b.get('label', name)} (test) {100 * acc:.1f} %",
                      annotation_position="bottom right", annotation_font_size=11, **where)


_LAYOUT = {"height": 380, "margin": {"l": 50, "r": 20, "t": 50, "b": 40}, "legend": {"orientation": "h", "y": -0.2}}


def _mark_best(fig, df, x, best_step):
    if best_step is None or df.empty:
        return
    hit = df[df["step"] == best_step]
    if not hit.empty:
        fig.add_vline(x=float(hit[x].iloc[0]), line_dash="dot", line_color=COLORS["val"],
                      annotation_text="best validation", annotation_position="top left")


METRIC_TITLES = {"test_acc": "test accuracy", "val_acc": "validation accuracy", "train_acc": "train accuracy (batch)",
                 "test_loss": "test error (cross-entropy)", "val_loss": "validation error (cross-entropy)",
                 "train_loss": "train error (cross-entropy, batch)", "lr": "learning rate"}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f"]  # qualitative (D3): neighbouring runs never share a hue


def compare_figure(runs: dict[str, pd.DataFrame], column: str = "test_acc", x: str = "step",
                   smoothing: float = 0.0) -> go.Figure:
    """One curve per run for ``column``, each in its own hue; smoothed like the Train page's curves."""
    fig = go.Figure()
    for i, (name, df) in enumerate(runs.items()):
        part = downsample(df[[x, column]].dropna())
        xs, ys, color = part[x].to_numpy(float), part[column].to_numpy(float), PALETTE[i % len(PALETTE)]
        if smoothing > 0:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": color, "width": 1}, opacity=0.25,
                                     showlegend=False, hoverinfo="skip"))
            ys = smooth(ys, smoothing)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, line={"color": color, "width": 2}))
    title = METRIC_TITLES.get(column, column)
    # four significant digits: a flat curve of float32 scores was labelled 0.3333333432674407959
    fig.update_layout(title=f"{title} {_per(x)}", xaxis_title=_axis_title(x), yaxis_title=title,
                      yaxis_tickformat=".4~g", **_LAYOUT)
    return fig


def confusion_figure(matrix: list[list[int]], labels: list[str], title: str = "Confusion matrix on the test set"):
    fig = go.Figure(go.Heatmap(z=np.asarray(matrix), x=labels, y=labels, colorscale="Blues", texttemplate="%{z}",
                               hovertemplate="true %{y}<br>predicted %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="true",
                      yaxis_autorange="reversed", height=360, margin=_LAYOUT["margin"])
    return fig


def reliability_figure(table: pd.DataFrame, labels: list[str], bins: int = 10) -> go.Figure:
    """Reliability diagram of a run's test songs (``RunFolder.test_predictions``): per confidence bin, how often
    the answer was right against how sure the model was; the diagonal is perfect calibration."""
    import torch

    from .calibrate import expected_calibration_error, reliability

    probs = torch.tensor(table[[f"p({a})" for a in labels]].to_numpy(dtype=float))  # (N, C)
    truth = torch.tensor([labels.index(a) for a in table["artist"]])  # (N,)
    rows = reliability(probs, truth, bins)
    fig = go.Figure([go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="#7f7f7f"),
                                name="perfectly calibrated", hoverinfo="skip"),
                     go.Scatter(x=[r["confidence"] for r in rows], y=[r["accuracy"] for r in rows],
                                mode="lines+markers", name="this run", marker_size=[6 + min(14, r["songs"]) for r
                                                                                    in rows],
                                customdata=[r["songs"] for r in rows],
                                hovertemplate="sure %{x:.0%}, right %{y:.0%} (%{customdata} songs)<extra></extra>")])
    ece = expected_calibration_error(probs, truth, bins)
    fig.update_layout(title=f"Calibration on the test set (expected calibration error {ece:.1%})",
                      xaxis_title="confidence of the answer", yaxis_title="share right", xaxis_range=[0, 1],
                      yaxis_range=[0, 1], xaxis_tickformat=".0%", yaxis_tickformat=".0%", height=360,
                      margin=_LAYOUT["margin"])
    return fig


def system_figure(system: pd.DataFrame) -> go.Figure:
    """The training process's CPU % and resident memory (and GPU, where recorded) against wall time, from
    ``RunFolder.system``: one panel per quantity."""
    panels = [(c, t) for c, t in (("cpu_percent", "CPU % (100 = one core)"), ("rss_mb", "memory (MB resident)"),
                                  ("gpu_percent", "GPU %"), ("gpu_memory_mb", "GPU memory (MB)"))
              if system[c].notna().any()] or [("cpu_percent", "CPU % (100 = one core)")]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[t for _, t in panels])
    for i, (column, title) in enumerate(panels, start=1):
        fig.add_trace(go.Scatter(x=system["elapsed_s"], y=system[column], mode="lines", name=title,
                                 line_color=PALETTE[i - 1], customdata=system["step"],
                                 hovertemplate="%{y:.0f} at %{x:.0f} s (step %{customdata})<extra></extra>"),
                      row=1, col=i)
        fig.update_xaxes(title_text="seconds since the run started", row=1, col=i)
        fig.update_yaxes(rangemode="tozero", row=1, col=i)
    fig.update_layout(height=260, showlegend=False, margin={"l": 50, "r": 20, "t": 40, "b": 40})
    return fig


def probabilities_figure(probs: dict[str, float]) -> go.Figure:
    names, values = list(probs)[::-1], np.asarray(list(probs.values())[::-1])
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", text=[f"{v:.1%}" for v in values],
                           textposition="auto"))
    fig.update_layout(title="Probability per artist", xaxis_range=[0, 1], xaxis_tickformat=".0%",
                      height=120 + 40 * len(names), margin=_LAYOUT["margin"])
    return fig


def songs_per_artist_figure(counts: pd.DataFrame) -> go.Figure:
    """Stacked bars: songs per artist in each split (columns of ``counts``)."""
    fig = go.Figure([go.Bar(x=counts.index.to_list(), y=counts[split].to_numpy(), name=split)
                     for split in counts.columns])
    fig.update_layout(title="Songs per artist", barmode="stack", xaxis_title="artist", yaxis_title="songs",
                      legend_title_text="split", height=360, margin=_LAYOUT["margin"])
    return fig


def length_histogram(lengths: np.ndarray, max_len: int) -> go.Figure:
    fig = go.Figure(go.Histogram(x=lengths, nbinsx=40, name="songs"))
    fig.add_vline(x=max_len, line_dash="dash", line_color=COLORS["test"], annotation_text=f"max_len={max_len}")
    fig.update_layout(title="Words per song", xaxis_title="words", yaxis_title="songs", height=320,
                      margin=_LAYOUT["margin"])
    return fig


def report_figure(summary, metrics: pd.DataFrame) -> go.Figure:
    """Error and accuracy against the global step, one above the other, for the HTML report."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("Error (cross-entropy) per global step", "Accuracy per global step"))
    _curves(fig, downsample(metrics), "step", "loss", 0.0, row=1)
    _curves(fig, downsample(metrics), "step", "acc", 0.0, row=2)
    fig.update_xaxes(title_text="global batch step", row=2, col=1)
    fig.update_yaxes(title_text="cross-entropy", row=1, col=1)
    fig.update_yaxes(title_text="accuracy", range=[0, 1.02], row=2, col=1)
    best = summary.best_step
    if best:
        fig.add_vline(x=best, line_dash="dot", line_color=COLORS["val"], annotation_text="best validation")
    add_baselines(fig, summary.baselines, row=2, col=1)
    fig.update_layout(height=820, title=f"lyricsdash run {summary.run_id}",
                      legend={"orientation": "h", "y": -0.08})
    return fig


def experiment_figure(results: dict[str, dict], setting: str | None) -> go.Figure:
    """Test accuracy per setting value: the mean, with a bar from the min to the max over seeds or folds."""
    labels = [k for k, r in results.items() if r["n"]]
    mean = np.array([results[k]["mean"] for k in labels])
    lo, hi = np.array([results[k]["min"] for k in labels]), np.array([results[k]["max"] for k in labels])
    fig = go.Figure(go.Scatter(x=labels, y=mean, mode="markers+lines", marker={"size": 10}, name="mean",
                               error_y={"type": "data", "symmetric": False, "array": hi - mean,
                                        "arrayminus": mean - lo},
                               text=[f"{results[k]['n']} run(s)" for k in labels],
                               hovertemplate="%{x}: mean %{y:.1%} (%{text})<extra></extra>"))
    fig.update_layout(title="Test accuracy: mean, and min–max over the runs", xaxis_title=setting or "setting",
                      xaxis_type="category", yaxis_title="test accuracy", yaxis_tickformat=".0%", **_LAYOUT)
    return fig


def _band(frames: list[pd.DataFrame], column: str) -> pd.DataFrame | None:
    """Mean, min and max over runs of ``column`` against the step, on one grid of steps.

    Runs are evaluated at different steps (the automatic cadence follows each run's own speed): grouping by
    step would pair each step with whichever runs happened to be evaluated there, and the mean would zigzag
    between seeds. Each run's curve is interpolated linearly onto the union of the runs' steps, within the
    steps that every run covers.
    """
    parts = [f[["step", column]].dropna().sort_values("step") for f in frames if not f.empty]
    parts = [p for p in parts if len(p)]
    if not parts:
        return None
    lo, hi = max(p["step"].iloc[0] for p in parts), min(p["step"].iloc[-1] for p in parts)
    grid = np.unique(np.concatenate([p["step"].to_numpy(float) for p in parts]))
    grid = grid[(grid >= lo) & (grid <= hi)] if lo <= hi else grid[:0]
    if not len(grid):
        return None
    ys = np.stack([np.interp(grid, p["step"].to_numpy(float), p[column].to_numpy(float)) for p in parts])  # (R, G)
    return downsample(pd.DataFrame({"step": grid, "mean": ys.mean(0), "min": ys.min(0), "max": ys.max(0),
                                    "n": len(parts)}))


def band_figure(curves: dict[str, list[pd.DataFrame]], column: str = "test_acc") -> go.Figure:
    """Per setting value, the mean curve over its runs with a min–max band, against the global step."""
    fig = go.Figure()
    for i, (label, frames) in enumerate(curves.items()):
        stats = _band(frames, column)
        if stats is None:
            continue
        color, x = PALETTE[i % len(PALETTE)], stats["step"].to_numpy(float)
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]),
                                 y=np.concatenate([stats["max"].to_numpy(float), stats["min"].to_numpy(float)[::-1]]),
                                 fill="toself", fillcolor=color, opacity=0.2, line={"width": 0}, hoverinfo="skip",
                                 showlegend=False))
        fig.add_trace(go.Scatter(x=x, y=stats["mean"].to_numpy(float), mode="lines", name=f"{label} (mean)",
                                 line={"color": color, "width": 2}))
    title = METRIC_TITLES.get(column, column)
    fig.update_layout(title=f"{title} per global step: mean and min–max band over the runs",
                      xaxis_title="global batch step", yaxis_title=title, **_LAYOUT)
    return fig
