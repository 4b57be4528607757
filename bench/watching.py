"""What watching costs one training: tokens/s of a run while its Train page is open vs while no page is open,
in alternating windows of the same run, on an idle machine and with one core kept busy.

    python bench/watching.py [--pairs 8] [--window 12] [--conditions idle busy]

bench/streaming.py compares separate CLI and dashboard runs; on a virtual machine whose speed drifts by up to
20 % between runs minutes apart, that comparison cannot resolve a few points. Here one long run (the Train
page's Epochs slider at its end, otherwise the default config) is started from the page, then the browser
alternates between the Train page (watched) and about:blank (nobody watching) in windows of a few seconds,
the order swapped every pair (watched first, then unwatched first) so that a drift favours neither. Each
window's training tokens/s comes from the run's own metrics.csv (steps that evaluated are left out, as the
evaluation cadence is the same either way); each pair gives one watched/unwatched ratio, and the table shows
their median and range, with the browser's and the server's CPU s per minute in each kind of window. A page
load is not counted: a watched window starts once the live status shows, plus a settling second.
Writes the 'watching' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from _common import ROOT, machine, table, write_section
from streaming import browser_cpu_seconds, cpu_seconds, in_browser

from lyricsdash.runs import RunFolder

sys.path.insert(0, str(ROOT / "tests"))
from test_browser import start_server, stop_server  # noqa: E402

SETTLE_S = 1.0


def latest_elapsed(runs: Path) -> float:
    """The training clock (elapsed_s) of the run's latest record."""
    path = next(runs.glob(f"*/{RunFolder.METRICS}"))
    lines = path.read_text().rstrip("\n").split("\n")
    return float(lines[-1].split(",")[lines[0].split(",").index("elapsed_s")])


def window_rate(metrics: pd.DataFrame, e0: float, e1: float) -> float:
    """Training tokens/s of the steps recorded in (e0, e1] of the run's clock, evaluating steps left out."""
    m = metrics.assign(dt=metrics["elapsed_s"].diff(), dtok=metrics["tokens"].diff())
    w = m[(m["elapsed_s"] > e0) & (m["elapsed_s"] <= e1) & m["val_acc"].isna()]
    return float(w["dtok"].sum() / w["dt"].sum())


def one_window(page, url: str, watched: bool, seconds: float, runs: Path, server_pid: int) -> dict:
    from playwright.sync_api import expect

    if watched:
        page.goto(f"{url}/train")
        expect(page.get_by_test_id("stProgress").first).to_be_visible(timeout=60_000)
    else:
        page.goto("about:blank")
    time.sleep(SETTLE_S)
    t0, e0, s0, b0 = time.monotonic(), latest_elapsed(runs), cpu_seconds(server_pid), browser_cpu_seconds()
    time.sleep(seconds)
    t1, e1, s1, b1 = time.monotonic(), latest_elapsed(runs), cpu_seconds(server_pid), browser_cpu_seconds()
    minutes = (t1 - t0) / 60
    return {"watched": watched, "e0": e0, "e1": e1, "server": (s1 - s0) / minutes, "browser": (b1 - b0) / minutes}


def measure(condition: str, pairs: int, window: float, page, tmp: Path) -> dict:
    from playwright.sync_api import expect

    runs = tmp / f"{condition}-runs"
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if condition == "busy" else None
    proc, url = start_server(runs, tmp / "server.log", os.environ.get("LYRICSDASH_DATA_DIR"), warm=True)
    try:
        page.goto(f"{url}/train")
        start = page.get_by_role("button", name="▶ Start training")
        expect(start).to_be_enabled(timeout=60_000)
        epochs = page.get_by_role("slider", name="Epochs")
        epochs.focus()
        epochs.press("End")  # a run that outlasts the measurement
        expect(epochs).to_have_attribute("aria-valuetext", "500")
        start.click()
        deadline = time.monotonic() + 120
        while not any(runs.glob(f"*/{RunFolder.METRICS}")) and time.monotonic() < deadline:
            time.sleep(0.2)
        windows = []
        for i in range(pairs):
            for watched in (True, False) if i % 2 == 0 else (False, True):
                windows.append(one_window(page, url, watched, window, runs, proc.pid))
        metrics = RunFolder(next(runs.glob(f"*/{RunFolder.METRICS}")).parent).metrics()
    finally:
        stop_server(proc)
        if busy:
            busy.kill()
    for w in windows:
        w["rate"] = window_rate(metrics, w["e0"], w["e1"])
    ratios = []
    for i in range(pairs):
        a, b = windows[2 * i], windows[2 * i + 1]
        on, off = (a, b) if a["watched"] else (b, a)
        ratios.append(on["rate"] / off["rate"])
        print(f"{condition} pair {i}: watched {on['rate']:,.0f} / unwatched {off['rate']:,.0f} tokens/s = "
              f"{100 * ratios[-1]:.1f} %; browser CPU s/min {on['browser']:.1f} / {off['browser']:.1f}", flush=True)
    med = statistics.median
    kind = {True: [w for w in windows if w["watched"]], False: [w for w in windows if not w["watched"]]}
    return {"ratio": med(ratios), "lo": min(ratios), "hi": max(ratios),
            "on": med(w["rate"] for w in kind[True]), "off": med(w["rate"] for w in kind[False]),
            "browser_on": med(w["browser"] for w in kind[True]), "browser_off": med(w["browser"] for w in kind[False]),
            "server_on": med(w["server"] for w in kind[True]), "server_off": med(w["server"] for w in kind[False])}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=8)
    p.add_argument("--window", type=float, default=12.0, help="seconds per window")
    p.add_argument("--conditions", nargs="*", default=["idle", "busy"], choices=["idle", "busy"])
    args = p.parse_args()
    results = in_browser(args.conditions, lambda c, page, tmp: measure(c, args.pairs, args.window, page, tmp))
    rows = [[{"idle": "idle machine", "busy": "one core busy (a plain CPU-bound process)"}[c], f"{m['off']:,.0f}",
             f"{m['on']:,.0f}", f"**{100 * m['ratio']:.1f} %** ({100 * m['lo']:.1f}–{100 * m['hi']:.1f})",
             f"{m['server_on']:.1f} / {m['browser_on']:.1f}", f"{m['server_off']:.1f} / {m['browser_off']:.1f}"]
            for c, m in results.items()]
    data = os.environ.get("LYRICSDASH_DATA_DIR") and "assignment files" or "demo corpus"
    body = (f"## Watching one run\n\nMachine: {machine()}  \nOne run per condition on the {data} (default config, "
            f"500 epochs), started from the Train page; {args.pairs} pairs of {args.window:.0f}-second windows, the "
            "Train page open (watched) or about:blank (unwatched), the order swapped every pair. tokens/s of the "
            "steps that did not evaluate, from the run's metrics.csv; the ratio is the median (and range) of the "
            "pairs' watched/unwatched ratios. CPU s per minute: the streamlit server process (the training process "
            "excluded) and all chromium processes.\n\n"
            + table(["condition", "unwatched tokens/s", "watched tokens/s", "watched / unwatched (median, range)",
                     "CPU s/min watched, server / browser", "CPU s/min unwatched, server / browser"], rows))
    print(body)
    write_section("watching", body)


if __name__ == "__main__":
    main()
