"""From Start to the first step: how long a training started from the dashboard takes to show its first step,
and where that time goes.

    python bench/start.py [--repeats 5] [--busy] [--page]

Starts the default config on the assignment files as the Train page does (``JobRegistry.start``), in a fresh
training process and in one started ahead, polls the job every 5 ms, and times each phase the training
process reports: starting the process (a fresh Python importing torch) or handing the run over, preparing the
data, building the model, then the first step (the baselines are fitted beside the first steps). ``--busy``
keeps one core busy meanwhile, as users' machines are. Stops each run after its first step.
Writes the 'start' section of bench/results.md ('start-busy' with --busy).

``--page`` measures what the user sees instead: a real server (its training process started ahead, as by
default) and chromium; from the click on Start to the Train page's status showing step 1 or later, read every
20 ms. Writes the 'start-page' section ('start-page-busy' with --busy).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import statistics
import tempfile
import time
from pathlib import Path

from _common import ROOT, data_paths, machine, table, write_section

from lyricsdash.config import TrainConfig
from lyricsdash.data import make_corpus
from lyricsdash.jobs import JobRegistry

PHASES = ("starting the training process", "handing the run to the training process", "preparing the data",
          "building the model", "first step")
WARM_WAIT_S = 10.0


def _spin(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def one_start(corpus, runs_dir: str, warm: bool) -> dict[str, float]:
    registry = JobRegistry(warm=warm)
    if warm:  # the dashboard starts its spare with the server; a user takes seconds to press Start
        time.sleep(WARM_WAIT_S)
    t0 = time.perf_counter()
    job = registry.start(corpus, TrainConfig(), runs_dir, data="assignment files")
    seen: dict[str, float] = {}
    while True:
        p = job.progress()
        now = time.perf_counter() - t0
        name = "first step" if p.steps >= 1 else next((ph for ph in PHASES if p.phase and p.phase.startswith(ph)),
                                                        None)
        if name and name not in seen:
            seen[name] = now
        if p.steps >= 1 or p.done:
            break
        time.sleep(0.005)
    job.stop()
    job.thread.join(60)
    if registry._spare is not None:  # the one started for a next run
        registry._spare.close()
    order = [ph for ph in PHASES if ph in seen]  # the phases this start went through, in order
    parts = {ph: seen[nxt] - seen[ph] for ph, nxt in zip(order, order[1:], strict=False)}
    parts |= {ph: float("nan") for ph in PHASES[:-1] if ph not in parts}
    parts["Start to first step"] = seen.get("first step", float("nan"))
    return parts


def page_starts(repeats: int, data_dir: Path) -> list[float]:
    """Seconds from each click on Start to the status showing a step, in chromium against `streamlit run`."""
    import re
    import sys

    from playwright.sync_api import expect, sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from test_browser import ARGS, CHROMIUM, start_server, status_step, stop_server

    tmp, out = Path(tempfile.mkdtemp()), []
    proc, url = start_server(tmp / "runs", tmp / "server.log", data_dir=data_dir, warm=True)
    try:
        with sync_playwright() as pw:
            page = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS).new_page(
                viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/train")
            for _ in range(repeats):
                start = page.get_by_role("button", name="▶ Start training")
                expect(start).to_be_enabled(timeout=120_000)
                page.wait_for_timeout(WARM_WAIT_S * 1000)  # the spare warms up, as while a user picks settings
                start.click()
                t0 = time.perf_counter()
                status = page.get_by_test_id("stProgress").first
                while time.perf_counter() - t0 < 60:
                    text = status.inner_text(timeout=60_000) if status.count() else ""
                    if status_step(text) >= 1:
                        break
                    page.wait_for_timeout(20)
                out.append(time.perf_counter() - t0)
                page.get_by_role("button", name="■ Stop").click()
                expect(page.get_by_text(re.compile(r"Test accuracy of the kept weights"))).to_be_visible(
                    timeout=120_000)
    finally:
        stop_server(proc)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    ap.add_argument("--page", action="store_true", help="from the click to the step on the page, in chromium")
    args = ap.parse_args()
    train_csv, test_csv = data_paths(None, None)
    if args.page:
        return page_main(args, Path(train_csv).parent)
    corpus = make_corpus(train_csv, test_csv, val_fraction=0.1, seed=0)
    with busy_core(args.busy), tempfile.TemporaryDirectory() as tmp:
        cold = [one_start(corpus, tmp, warm=False) for _ in range(args.repeats)]
        warm = [one_start(corpus, tmp, warm=True) for _ in range(args.repeats)]
    rows = []
    for label, runs in (("a fresh process", cold), ("the process started ahead", warm)):
        rows += [[label, name, f"{statistics.median(r[name] for r in runs):.2f}",
                  f"{min(r[name] for r in runs):.2f}-{max(r[name] for r in runs):.2f}"] for name in runs[0]
                 if not all(v != v for v in (r[name] for r in runs))]
    body = "\n".join([f"## From Start to the first step ({args.repeats} starts, "
                      f"{'one core kept busy' if args.busy else 'otherwise idle'})", "", f"Machine: {machine()}", "",
                      "The default config on the assignment files, started as the Train page starts it, in a fresh "
                      "training process and in the one the dashboard keeps started ahead (given "
                      f"{WARM_WAIT_S:.0f} s to warm up); seconds.", "",
                      table(["training process", "phase", "median s", "range"], rows)])
    print(body)
    write_section("start-busy" if args.busy else "start", body)


@contextlib.contextmanager
def busy_core(busy: bool):
    """One core kept busy by a plain CPU-bound process while the block runs (``busy``), as users' machines are."""
    stop = mp.Event()
    spinner = mp.Process(target=_spin, args=(stop,), daemon=True) if busy else None
    if spinner:
        spinner.start()
    try:
        yield
    finally:
        stop.set()


def page_main(args, data_dir: Path) -> None:
    with busy_core(args.busy):
        seconds = page_starts(args.repeats, data_dir)
    body = "\n".join([f"## From the click on Start to the first step on the page ({args.repeats} starts, "
                      f"{'one core kept busy' if args.busy else 'otherwise idle'})", "", f"Machine: {machine()}", "",
                      "`streamlit run` with its training process started ahead (the default), the assignment files, "
                      "the default config; chromium clicks Start and reads the Train page's status every 20 ms "
                      "until it shows step 1 or later.", "",
                      table(["median s", "range", "each"], [[f"**{statistics.median(seconds):.2f}**",
                                                             f"{min(seconds):.2f}-{max(seconds):.2f}",
                                                             ", ".join(f"{s:.2f}" for s in seconds)]])])
    print(body)
    write_section("start-page-busy" if args.busy else "start-page", body)


if __name__ == "__main__":
    main()
