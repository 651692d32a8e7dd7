#!/bin/sh
# Install Debian's Chromium for the sandbox browser test (tests/e2e/test_sandbox_browser.py).
# Playwright drives this browser; it never downloads browsers of its own.
# Needs root and Debian's package registry. Idempotent: does nothing when Chromium is there.
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-browser.sh: run as root to apt-get install chromium" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk fonts-noto-color-emoji >/dev/null
test -x /usr/bin/chromium
