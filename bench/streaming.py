"""Streaming cost: training tokens/s with the Train page open in a real browser vs the CLI, same config and data.

    python bench/streaming.py [--rounds 2]

Alternates CLI and dashboard runs of the default config on the assignment data (else the demo corpus). The
dashboard run is started by clicking Start in headless chromium, which keeps the page open (refreshing once
a second) until the report appears. tokens/s is read from each run's summary.json.
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


def cli_run(runs: Path) -> float:
    out = subprocess.run([sys.executable, "-m", "lyricsdash", "train", "--json", "--quiet", "--runs-dir", str(runs)],
                         cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])["tokens_per_second"]


def dashboard_run(runs: Path, page) -> float:
    from playwright.sync_api import expect

    proc, url = start_server(runs, runs.parent / "server.log", os.environ.get("LYRICSDASH_DATA_DIR"))
    try:
        page.goto(f"{url}/train")
        start = page.get_by_role("button", name="▶ Start training")
        expect(start).to_be_enabled(timeout=60_000)
        start.click()
        expect(page.get_by_text("Test accuracy of that checkpoint")).to_be_visible(timeout=600_000)
    finally:
        stop_server(proc)
    newest = max(d for d in runs.iterdir() if d.is_dir())
    return json.loads((newest / "summary.json").read_text())["tokens_per_second"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    cli, dash = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for r in range(args.rounds):
            cli.append(cli_run(tmp / f"cli{r}"))
            dash.append(dashboard_run(tmp / f"dash{r}", page))
            print(f"round {r}: CLI {cli[-1]:,.0f} tokens/s, dashboard {dash[-1]:,.0f} tokens/s", flush=True)
        browser.close()
    c, d = statistics.median(cli), statistics.median(dash)
    data = os.environ.get("LYRICSDASH_DATA_DIR") and "assignment files" or "demo corpus"
    body = (f"## Streaming cost\n\nMachine: {machine()}  \nDefault config on the {data}; median of {args.rounds} "
            "alternating rounds; tokens/s includes the per-step evaluation in both.\n\n"
            + table(["where", "training tokens/s"], [["CLI", f"{c:,.0f}"],
                                                     ["dashboard, Train page open in chromium", f"{d:,.0f}"],
                                                     ["ratio dashboard / CLI", f"{100 * d / c:.1f} %"]]))
    print(body)
    write_section("streaming", body)


if __name__ == "__main__":
    main()
