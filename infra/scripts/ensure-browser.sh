#!/usr/bin/env bash
# Makes sure the page tests have a Chromium: Playwright's own if installed, else the system's.
# Where neither exists: Debian's package when we may install it (root with apt-get), else
# Playwright's download (`playwright install chromium`), which needs the internet. Only prints
# and returns 0 when nothing works: the page tests then skip and say why (CI makes that a failure).
set -uo pipefail
venv="${1:-.venv}"
for name in chromium chromium-browser google-chrome google-chrome-stable; do
  command -v "$name" >/dev/null 2>&1 && exit 0
done
if "$venv/bin/python" - <<'PY' 2>/dev/null; then exit 0; fi
import pathlib, sys
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    sys.exit(0 if pathlib.Path(p.chromium.executable_path).exists() else 1)
PY
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Debian's chromium for the page tests"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "==> trying Playwright's own Chromium (needs the internet)"
"$venv/bin/playwright" install chromium || echo "==> no browser: page tests will skip"
exit 0
