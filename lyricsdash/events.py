"""TensorBoard event files in the run folder, so that ``tensorboard --logdir runs`` shows every run.

Written with tensorboardX, which needs only numpy, packaging and protobuf; ``tensorboard`` itself (the viewer,
with grpcio and werkzeug) is needed only to look at them, and by the tests that read them back.

Per global step: every number of the step's ``metrics.csv`` row under the same name (a step without an
evaluation has no test or validation point, as in the CSV). At the end: the run's settings and final scores
as TensorBoard hparams (the scores tagged ``final/<Summary field>``), in the same file, so that the HParams
tab lists the run under its own folder name.
"""

from __future__ import annotations

import math
from pathlib import Path

from .records import FLAGS, RECORD_FIELDS

SCALARS = tuple(f for f in RECORD_FIELDS if f != "step" and f not in FLAGS)  # the step is the x-axis
FINAL = ("test_accuracy", "test_loss", "best_val_accuracy")  # Summary fields shown in the HParams tab


class EventWriter:
    """Appends one run's scalars to an event file in ``folder`` (flushed every few seconds)."""

    def __init__(self, folder: Path, flush_secs: int = 5, purge_step: int | None = None):
        """``purge_step``: a resumed run's first step; TensorBoard drops the older files' events from there on
        (steps a killed run wrote past its resume point, trained again)."""
        from tensorboardX import SummaryWriter  # imported by the training process only

        self._w = SummaryWriter(logdir=str(folder), flush_secs=flush_secs, purge_step=purge_step)
        self._last_step = 0

    def step(self, record: dict) -> None:
        step = int(record["step"])
        for name in SCALARS:
            value = record.get(name)
            if isinstance(value, (int, float)) and not math.isnan(value):
                self._w.add_scalar(name, value, step)
        self._last_step = step

    def hparams(self, config: dict, final: dict) -> None:
        """The run's settings and its final scores (None or NaN scores are left out)."""
        from tensorboardX.summary import hparams

        metrics = {f"final/{k}": float(v) for k, v in final.items()
                   if isinstance(v, (int, float)) and not math.isnan(v)}
        for k, v in metrics.items():  # the HParams tab reads a metric from a scalar of the same tag
            self._w.add_scalar(k, v, self._last_step)
        settings = {k: v if isinstance(v, (bool, int, float, str)) else str(v) for k, v in config.items()}
        writer = self._w._get_file_writer()  # in this run's own file, not a folder of its own per call
        for summary in hparams(settings, metrics):
            writer.add_summary(summary)

    def close(self) -> None:
        self._w.close()
