#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run ruff and the whole suite.
# Real-data tests run when LYRICSDASH_DATA_DIR (or ../shared/data) holds the assignment files.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -r requirements-dev.txt
.venv/bin/ruff check .
# two processes ($PYTEST_WORKERS; 0 = one), each test file whole in one of them: its module fixtures are built
# once, and the browser tests (one file) run one at a time
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
