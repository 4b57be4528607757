"""Streaming cost: training tokens/s with the Train page open in a real browser vs the CLI, same config and data,
on an idle machine and with one core kept busy by a plain CPU-bound process.

    python bench/streaming.py [--rounds 3] [--conditions idle busy]

Alternates CLI and dashboard runs of the default config on the assignment data (else the demo corpus). The
dashboard run is started by clicking Start in headless chromium, which keeps the page open (status refreshing
every second, charts every two) until the report appears. tokens/s is read from each run's summary.json, both
end to end (evaluation included) and for the training steps alone. The server's and the browser's CPU
seconds (from /proc, the training process excluded) are given per minute of watched training.
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
from pathlib import Path

from _common import ROOT, machine, table, write_section

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


def rates(summary: dict) -> tuple[float, float, float]:
    """(tokens/s end to end, tokens/s of the training steps alone, seconds spent evaluating)."""
    s, ev = summary, summary.get("eval_seconds") or 0.0
    return s["tokens_per_second"], s["tokens"] / max(1e-9, s["train_seconds"] - ev), ev


def cli_run(runs: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "lyricsdash", "train", "--json", "--quiet", "--runs-dir", str(runs)],
                         cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    run_dir = Path(json.loads(out.stdout.strip().splitlines()[-1])["run_dir"])
    return json.loads((run_dir / "summary.json").read_text())


def dashboard_run(runs: Path, page) -> tuple[dict, float, float]:
    """-> (summary, server CPU s, browser CPU s) of one watched training."""
    from playwright.sync_api import expect

    proc, url = start_server(runs, runs.parent / "server.log", os.environ.get("LYRICSDASH_DATA_DIR"))
    try:
        page.goto(f"{url}/train")
        start = page.get_by_role("button", name="▶ Start training")
        expect(start).to_be_enabled(timeout=60_000)
        server0, browser0 = cpu_seconds(proc.pid), browser_cpu_seconds()
        start.click()
        expect(page.get_by_text("Test accuracy of the kept weights")).to_be_visible(timeout=900_000)
        server, browser = cpu_seconds(proc.pid) - server0, browser_cpu_seconds() - browser0
    finally:
        stop_server(proc)
    newest = max(d for d in runs.iterdir() if d.is_dir())
    return json.loads((newest / "summary.json").read_text()), server, browser


def measure(condition: str, rounds: int, page, tmp: Path) -> dict:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if condition == "busy" else None
    try:
        cli, dash, server, browser = [], [], [], []
        for r in range(rounds):
            cli.append(rates(cli_run(tmp / f"{condition}-cli{r}")))
            summary, s_cpu, b_cpu = dashboard_run(tmp / f"{condition}-dash{r}", page)
            dash.append(rates(summary))
            minutes = summary["train_seconds"] / 60
            server.append(s_cpu / minutes)
            browser.append(b_cpu / minutes)
            print(f"{condition} round {r}: CLI {cli[-1][0]:,.0f} / dashboard {dash[-1][0]:,.0f} tokens/s (steps "
                  f"only {cli[-1][1]:,.0f} / {dash[-1][1]:,.0f}); server {server[-1]:.1f}, browser "
                  f"{browser[-1]:.1f} CPU s per minute", flush=True)
    finally:
        if busy:
            busy.kill()
    med = statistics.median
    return {"cli": med(c[0] for c in cli), "dash": med(d[0] for d in dash), "cli_steps": med(c[1] for c in cli),
            "dash_steps": med(d[1] for d in dash), "cli_eval": med(c[2] for c in cli),
            "dash_eval": med(d[2] for d in dash), "server": med(server), "browser": med(browser)}


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--conditions", nargs="*", default=["idle", "busy"], choices=["idle", "busy"])
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    results = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for condition in args.conditions:
            results[condition] = measure(condition, args.rounds, page, tmp)
        browser.close()
    rows = [[{"idle": "idle machine", "busy": "one core busy (a plain CPU-bound process)"}[c],
             f"{m['cli_steps']:,.0f}", f"{m['dash_steps']:,.0f}", f"{100 * m['dash_steps'] / m['cli_steps']:.1f} %",
             f"{100 * m['dash'] / m['cli']:.1f} %", f"{m['cli_eval']:.1f} / {m['dash_eval']:.1f}",
             f"{m['server']:.1f}", f"{m['browser']:.1f}"] for c, m in results.items()]
    data = os.environ.get("LYRICSDASH_DATA_DIR") and "assignment files" or "demo corpus"
    body = (f"## Streaming cost\n\nMachine: {machine()}  \nDefault config on the {data}; median of {args.rounds} "
            "alternating CLI/dashboard rounds per condition. Training runs in a child process of the dashboard "
            "server. Training tokens/s of the steps alone is the like-for-like figure: the automatic evaluation "
            "cadence (eval_every=0) measures each evaluation's cost as it goes, so a run that meets a busier "
            "machine evaluates less often, which moves the end-to-end figure (evaluation included) by far more "
            "than the page does (see the evaluation seconds). CPU s per minute of watched training: the "
            "streamlit server process (the training process excluded) and all chromium processes, from the "
            "click on Start until the report shows (page loads and the final report included).\n\n"
            + table(["condition", "CLI tokens/s, steps", "dashboard tokens/s, steps", "dashboard / CLI, steps",
                     "dashboard / CLI, end to end", "evaluation s, CLI / dashboard", "server CPU s/min",
                     "browser CPU s/min"], rows))
    print(body)
    write_section("streaming", body)


if __name__ == "__main__":
    main()
