"""Helpers shared by the bench scripts: paths, machine description, tables, results.md sections."""

from __future__ import annotations

import os
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from lyricsdash.data import assignment_files  # noqa: E402

RESULTS = ROOT / "bench" / "results.md"


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} torch threads, "
            f"Python {platform.python_version()}")


def data_paths(train: str | None, test: str | None):
    if train:
        return Path(train), Path(test) if test else None
    found = assignment_files() or assignment_files(ROOT.parent / "shared" / "data")
    if not found:
        sys.exit("No data: pass --train/--test or set LYRICSDASH_DATA_DIR.")
    return found


def table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(name: str, body: str) -> None:
    """Replace this script's section of bench/results.md (other sections stay)."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nWritten by the scripts in bench/.\n"
    block = f"<!-- {name}:start -->\n{body.strip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
    print(f"\nwrote the '{name}' section of {RESULTS.relative_to(ROOT)}")


def pct(v: float) -> str:
    return f"{100 * v:.2f} %"
