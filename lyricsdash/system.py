"""System metrics of the training process, sampled every few seconds into the run folder's ``system.csv``.

CPU % (of one core, so 200 means two busy cores) and resident memory come from psutil. On CUDA, GPU
utilisation and memory come from NVML (``nvidia-ml-py``); without it, or without a GPU, those columns stay
empty and nothing is said: most machines have neither.
"""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path

import psutil

FIELDS = ("elapsed_s", "step", "cpu_percent", "rss_mb", "gpu_percent", "gpu_memory_mb")
EVERY_S = 5.0


class _Gpu:
    """NVML's view of the GPU this process trains on; every reading None where NVML or the GPU is absent."""

    def __init__(self, device: str):
        self.handle = None
        if not device.startswith("cuda"):
            return
        try:
            import pynvml

            pynvml.nvmlInit()
            index = int(device.split(":")[1]) if ":" in device else 0
            self.nvml, self.handle = pynvml, pynvml.nvmlDeviceGetHandleByIndex(index)
        except Exception:  # no nvidia-ml-py, no driver: skip quietly
            self.handle = None

    def read(self) -> tuple[float | None, float | None]:
        if self.handle is None:
            return None, None
        try:
            util = self.nvml.nvmlDeviceGetUtilizationRates(self.handle).gpu
            used = self.nvml.nvmlDeviceGetMemoryInfo(self.handle).used / 2**20
            return float(util), round(used, 1)
        except Exception:
            return None, None


class SystemSampler:
    """A daemon thread appending one row to ``path`` every ``every_s`` seconds, and one at ``stop()``.

    ``step`` is set by the training thread (a plain int: reading a stale one is harmless).
    """

    def __init__(self, path: Path, device: str = "cpu", every_s: float = EVERY_S, append: bool = False):
        """``append``: a resumed run adds its rows to the file (elapsed_s then counts from the resume)."""
        self.path, self.every_s, self.step, self.append = path, every_s, 0, append and path.exists()
        self._gpu, self._proc = _Gpu(device), psutil.Process()
        self._done = threading.Event()
        self._t0 = time.perf_counter()
        self._proc.cpu_percent(None)  # the first call only starts psutil's interval
        self._thread = threading.Thread(target=self._loop, name="lyricsdash-system", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        with open(self.path, "a" if self.append else "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            if not self.append:
                out.writerow(FIELDS)
                f.flush()
            while not self._done.wait(self.every_s):
                out.writerow(self.sample())
                f.flush()
            out.writerow(self.sample())  # the end, so that even a short run has a row

    def sample(self) -> tuple:
        gpu, gpu_mem = self._gpu.read()
        rss = self._proc.memory_info().rss / 2**20
        return (round(time.perf_counter() - self._t0, 2), self.step, self._proc.cpu_percent(None), round(rss, 1),
                "" if gpu is None else gpu, "" if gpu_mem is None else gpu_mem)

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=10)
