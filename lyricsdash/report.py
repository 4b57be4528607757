"""The assignment's report of a run, as text (CLI, pages) and as one self-contained HTML page."""

from __future__ import annotations

import html

import pandas as pd

from .baselines import NAMES
from .config import AUTO_TEACHER_MIN_ARTISTS, ConfigError, TrainConfig
from .records import Status


def pct(v, digits: int = 2) -> str:
    return "n/a" if v is None or v != v else f"{100 * v:.{digits}f} %"  # v != v: NaN of any float type


def kept_label(summary) -> str:
    """What the kept weights are, in words: a stopped or still-running run has not had the whole schedule."""
    if summary.keep != "final":
        return f"best validation checkpoint (step {summary.kept_step or summary.best_step})"
    of = f"step {summary.kept_step:,}" + (f" of {summary.total_steps:,}" if summary.total_steps else "")
    if summary.status == Status.FINISHED:
        return f"final weights ({of}, after the whole schedule)"
    if summary.status == Status.RUNNING:
        return f"the latest epoch's weights so far ({of}; training goes on)"
    return f"the weights when it ended ({of}; {summary.status} before the end of the schedule)"


def calibration_line(summary) -> str | None:
    """'Probabilities: temperature 2.31 fitted on the validation songs; ...', or None before it is fitted."""
    if summary.temperature is None:
        return None
    ece = f"; expected calibration error on the test songs {pct(summary.test_ece, 1)}" \
        if summary.test_ece is not None else ""
    return (f"Probabilities: song scores divided by a temperature of {summary.temperature:.2f}, fitted on the "
            f"validation songs (accuracy unchanged){ece}")


def baselines_line(summary) -> str | None:
    """'LSTM 64.3 % · TF-IDF words + LR 74.4 % · …' on the same test set, or None without baselines."""
    base = summary.baselines or {}
    if not base:
        return None
    parts = [f"LSTM {pct(summary.test_accuracy, 1)}"]
    parts += [f"{b.get('label', NAMES.get(name, name))} {pct(b.get('test_acc'), 1)}" for name, b in base.items()]
    return " · ".join(parts)


def teacher_line(summary) -> str | None:
    """'Distillation: ...' from the run's settings and artists, or None when its settings are unknown."""
    try:
        cfg = TrainConfig.from_saved(summary.config) if summary.config else None
    except (ConfigError, TypeError):
        cfg = None
    if cfg is None:
        return None
    teacher = cfg.teacher_for(len(summary.labels))
    if teacher is None:
        auto = cfg.teacher == "auto" and cfg.distill
        return "Distillation: none" + (f" (teacher=auto: under {AUTO_TEACHER_MIN_ARTISTS} artists)" if auto else "")
    return (f"Distillation: {cfg.distill:g} of the training loss from a TF-IDF {teacher} + LR teacher's "
            "out-of-fold probabilities of each training window")


def report_text(summary) -> str:
    """The assignment's report: architecture, parameters, training time, test accuracy, and the baselines."""
    lines = [f"Run: {summary.run_id} ({summary.status})", *([f"Data: {summary.data}"] if summary.data else []),
             f"Architecture: {summary.architecture}",
             f"Parameters: {summary.params:,}", *filter(None, [teacher_line(summary)])]
    if summary.train_seconds is not None:
        lines.append(f"Training time: {summary.train_seconds:.1f} s wall-clock, {summary.steps} global "
                     f"steps, {summary.tokens_per_second or 0:,.0f} training tokens/s"
                     + (f" ({summary.eval_seconds:.1f} s of it evaluating)" if summary.eval_seconds else ""))
    if summary.checkpoint:
        lines += [f"Kept weights: {kept_label(summary)}",
                  f"Test accuracy of the kept weights: {pct(summary.test_accuracy)} "
                  f"(cross-entropy {summary.test_loss or float('nan'):.4f})"]
        calibration = calibration_line(summary)
        if calibration:
            lines.append(calibration)
    elif summary.status in (Status.RUNNING, Status.STARTING):
        lines.append(f"Training now: step {summary.steps or 0:,} of {summary.total_steps or 0:,}; the "
                     "first checkpoint is saved at the end of the first epoch.")
    else:
        lines.append("No checkpoint was saved.")
    if summary.best_val_accuracy is not None:
        lines.append(f"Best validation accuracy: {pct(summary.best_val_accuracy)} at step "
                     f"{summary.best_step}")
    line = baselines_line(summary)
    if line:
        lines.append(f"Same test songs: {line}")
    if summary.error:
        lines.append(f"Error: {summary.error}")
    return "\n".join(lines)


def report_html(summary, metrics: pd.DataFrame) -> str:
    """A self-contained HTML page: the report text, the per-step curves and the confusion matrix."""
    from . import charts

    parts = [charts.report_figure(summary, metrics).to_html(full_html=False, include_plotlyjs=True)]
    if summary.confusion_matrix:
        parts.append(charts.confusion_figure(summary.confusion_matrix, summary.labels)
                     .to_html(full_html=False, include_plotlyjs=False))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>lyricsdash report</title></head><body>"
            f"<pre style='white-space:pre-wrap'>{html.escape(report_text(summary))}</pre>{''.join(parts)}"
            "</body></html>")
