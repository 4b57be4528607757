"""Streaming cost: training tokens/s with the Train page open in a real browser vs the CLI, same config and data,
on an idle machine and with one core kept busy by a plain CPU-bound process.

    python bench/streaming.py [--rounds 5] [--conditions idle busy]

Alternates CLI and dashboard runs of the default config on the assignment data (else the demo corpus), the
order swapped every round so that a drift of the machine's speed does not favour either. The dashboard run
is started by clicking Start in headless chromium, which keeps the page open (status refreshing every second,
charts every five) until the report appears. tokens/s is read from each run's summary.json, both end to end
(evaluation included) and for the training steps alone; each round gives one dashboard/CLI ratio and the
table shows their median and range. The server's and the browser's CPU seconds (from /proc, the training
process excluded) are given per minute, both while the training steps run (from the run folder's first
record to its final summary) and from the click on Start until the report shows.
Writes the 'streaming' section of bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import ROOT, machine, table, write_section

from lyricsdash.runs import RunFolder

sys.path.insert(0, str(ROOT / "tests"))
from test_browser import ARGS, CHROMIUM, start_server, stop_server  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its children not included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def browser_cpu_seconds() -> float:
    """All chromium processes' CPU time now."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if b"chromium" in (d / "cmdline").read_bytes():
                    total += cpu_seconds(int(d.name))
            except OSError:
                continue
    return total


class Sampler(threading.Thread):
    """Samples (time, server CPU s, browser CPU s) every 0.2 s and notes when the run's training starts and
    ends: the run folder's metrics.csv appears at the first step, its summary.json leaves "running" at the end."""

    def __init__(self, server_pid: int, runs: Path):
        super().__init__(daemon=True)
        self.pid, self.runs, self.samples, self.started, self.ended = server_pid, runs, [], None, None
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.2):
            now = time.monotonic()
            self.samples.append((now, cpu_seconds(self.pid), browser_cpu_seconds()))
            if self.started is None and any(self.runs.glob(f"*/{RunFolder.METRICS}")):
                self.started = now
            if self.started is not None and self.ended is None and self._finished():
                self.ended = now

    def _finished(self) -> bool:
        for path in self.runs.glob(f"*/{RunFolder.SUMMARY}"):
            try:
                if json.loads(path.read_text()).get("status") != "running":
                    return True
            except (OSError, ValueError):
                pass  # being written
        return False

    def per_minute(self, t0: float, t1: float) -> tuple[float, float]:
        """(server, browser) CPU s per minute between two moments, from the nearest samples."""
        def at(t):
            return min(self.samples, key=lambda s: abs(s[0] - t))
        a, b = at(t0), at(t1)
        minutes = max(1e-9, b[0] - a[0]) / 60
        return (b[1] - a[1]) / minutes, (b[2] - a[2]) / minutes


def rates(summary: dict) -> tuple[float, float, float]:
    """(tokens/s end to end, tokens/s of the training steps alone, seconds spent evaluating)."""
    s, ev = summary, summary.get("eval_seconds") or 0.0
    return s["tokens_per_second"], s["tokens"] / max(1e-9, s["train_seconds"] - ev), ev


def cli_run(runs: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "lyricsdash", "train", "--json", "--quiet", "--runs-dir", str(runs)],
                         cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    run_dir = Path(json.loads(out.stdout.strip().splitlines()[-1])["run_dir"])
    return json.loads(RunFolder(run_dir).summary_path.read_text())


def dashboard_run(runs: Path, page) -> tuple[dict, tuple[float, float], tuple[float, float]]:
    """-> (summary, (server, browser) CPU s/min while training, the same from the click to the report)."""
    from playwright.sync_api import expect

    proc, url = start_server(runs, runs.parent / "server.log", os.environ.get("LYRICSDASH_DATA_DIR"), warm=True)
    sampler = Sampler(proc.pid, runs)
    try:
        page.goto(f"{url}/train")
        start = page.get_by_role("button", name="▶ Start training")
        expect(start).to_be_enabled(timeout=60_000)
        sampler.start()
        time.sleep(0.5)  # a first sample before the click
        clicked = time.monotonic()
        start.click()
        expect(page.get_by_text("Test accuracy of the kept weights")).to_be_visible(timeout=900_000)
        reported = time.monotonic()
        time.sleep(0.3)  # a last sample after the report
    finally:
        sampler.halt.set()
        sampler.join()
        stop_server(proc)
    newest = max(d for d in runs.iterdir() if d.is_dir())
    training = sampler.per_minute(sampler.started or clicked, sampler.ended or reported)
    return json.loads(RunFolder(newest).summary_path.read_text()), training, sampler.per_minute(clicked, reported)


def measure(condition: str, rounds: int, page, tmp: Path) -> dict:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if condition == "busy" else None
    try:
        cli, dash, training, whole = [], [], [], []
        for r in range(rounds):
            for side in ("cli", "dash") if r % 2 == 0 else ("dash", "cli"):
                if side == "cli":
                    cli.append(rates(cli_run(tmp / f"{condition}-cli{r}")))
                else:
                    summary, during, overall = dashboard_run(tmp / f"{condition}-dash{r}", page)
                    dash.append(rates(summary))
                    training.append(during)
                    whole.append(overall)
            print(f"{condition} round {r}: steps only CLI {cli[-1][1]:,.0f} / dashboard {dash[-1][1]:,.0f} tokens/s "
                  f"= {100 * dash[-1][1] / cli[-1][1]:.1f} % (end to end {100 * dash[-1][0] / cli[-1][0]:.1f} %); "
                  f"CPU s/min while training: server {training[-1][0]:.1f}, browser {training[-1][1]:.1f}; "
                  f"click to report: {whole[-1][0]:.1f}, {whole[-1][1]:.1f}", flush=True)
    finally:
        if busy:
            busy.kill()
    med = statistics.median
    ratios = [d[1] / c[1] for c, d in zip(cli, dash, strict=True)]
    return {"cli": med(c[0] for c in cli), "dash": med(d[0] for d in dash), "cli_steps": med(c[1] for c in cli),
            "dash_steps": med(d[1] for d in dash), "ratio": med(ratios), "ratio_lo": min(ratios),
            "ratio_hi": max(ratios), "end_to_end": med(d[0] / c[0] for c, d in zip(cli, dash, strict=True)),
            "cli_eval": med(c[2] for c in cli), "dash_eval": med(d[2] for d in dash),
            "server": med(t[0] for t in training), "browser": med(t[1] for t in training),
            "server_all": med(w[0] for w in whole), "browser_all": med(w[1] for w in whole)}


def in_browser(conditions: list[str], measure_one) -> dict:
    """{condition: measure_one(condition, page, tmp)}, all in one headless chromium page (1400x1000)."""
    from playwright.sync_api import sync_playwright

    tmp, results = Path(tempfile.mkdtemp()), {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for condition in conditions:
            results[condition] = measure_one(condition, page, tmp)
        browser.close()
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--conditions", nargs="*", default=["idle", "busy"], choices=["idle", "busy"])
    args = p.parse_args()
    results = in_browser(args.conditions, lambda c, page, tmp: measure(c, args.rounds, page, tmp))
    rows = [[{"idle": "idle machine", "busy": "one core busy (a plain CPU-bound process)"}[c],
             f"{m['cli_steps']:,.0f}", f"{m['dash_steps']:,.0f}",
             f"**{100 * m['ratio']:.1f} %** ({100 * m['ratio_lo']:.1f}–{100 * m['ratio_hi']:.1f})",
             f"{100 * m['end_to_end']:.1f} %", f"{m['cli_eval']:.1f} / {m['dash_eval']:.1f}",
             f"{m['server']:.1f} / {m['browser']:.1f}", f"{m['server_all']:.1f} / {m['browser_all']:.1f}"]
            for c, m in results.items()]
    data = os.environ.get("LYRICSDASH_DATA_DIR") and "assignment files" or "demo corpus"
    body = (f"## Streaming cost\n\nMachine: {machine()}  \nDefault config on the {data}; {args.rounds} rounds per "
            "condition, each one CLI run and one dashboard run, their order swapped every round. Training runs in "
            "a child process of the dashboard server. The ratio is the median (and range) of the rounds' "
            "dashboard/CLI ratios. Training tokens/s of the steps alone is the like-for-like figure: the automatic "
            "evaluation cadence (eval_every=0) measures each evaluation's cost as it goes, so a run that meets a "
            "busier machine evaluates less often, which moves the end-to-end figure (evaluation included) by far "
            "more than the page does (see the evaluation seconds). CPU s per minute: the streamlit server process "
            "(the training process excluded) and all chromium processes, while the training steps run (from the "
            "run's first record to its final summary: what competes with training) and from the click on Start "
            "until the report shows (the page reloading at Start and drawing the report included).\n\n"
            + table(["condition", "CLI tokens/s, steps", "dashboard tokens/s, steps",
                     "dashboard / CLI, steps (median, range)", "dashboard / CLI, end to end",
                     "evaluation s, CLI / dashboard", "CPU s/min while training, server / browser",
                     "CPU s/min click to report, server / browser"], rows))
    print(body)
    write_section("streaming", body)


if __name__ == "__main__":
    main()
