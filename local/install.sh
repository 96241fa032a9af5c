#!/usr/bin/env bash
# Installs what the local stack needs besides .venv (which `make install` makes first):
#   - local/node_modules: firebase-tools for the Auth emulator, exactly as package-lock.json says.
#   - web/dist: the reference web app, built with esbuild (web/package-lock.json).
#   - /usr/bin/chromium (Debian): the browser of tests/browser, when missing.
# Every other peer runs with .venv's Python (the Cloud Tasks emulator is local/tasks_emulator).
# Idempotent: redone only when it is missing or its lock changed (a stamp holding their
# checksum records what was installed). Reaches only the npm registry and Debian's packages.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/local"

say() { printf 'install.sh: %s\n' "$*"; }
checksum() { cat "$@" | sha256sum | cut -d' ' -f1; }

# -- node: firebase-tools ----------------------------------------------------------------------
node_stamp="$LOCAL/node_modules/.aksio-installed"
node_sum="$(checksum "$LOCAL/package.json" "$LOCAL/package-lock.json")"
if [[ -x "$LOCAL/node_modules/.bin/firebase" && -f "$node_stamp" && "$(cat "$node_stamp")" == "$node_sum" ]]; then
  say "local/node_modules is up to date"
else
  command -v npm >/dev/null || { say "npm not found: install Node.js 20"; exit 1; }
  say "installing firebase-tools into local/node_modules (npm ci)"
  # --ignore-scripts: no package needs its install script for the Auth emulator, and re2's
  # (an optional dependency of the hosting emulator) would try to download a prebuilt binary
  # from outside the npm registry, then compile for minutes.
  (cd "$LOCAL" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  printf '%s\n' "$node_sum" >"$node_stamp"
fi

# -- web: the reference web app (web/dist), bundled by esbuild -------------------------------------
web="$ROOT/web"
web_stamp="$web/dist/.aksio-built"
web_sum="$(checksum "$web/package.json" "$web/package-lock.json" "$web/build.mjs" $(find "$web/src" -type f | sort))"
if [[ -f "$web_stamp" && "$(cat "$web_stamp")" == "$web_sum" ]]; then
  say "web/dist is up to date"
else
  command -v npm >/dev/null || { say "npm not found: install Node.js 20"; exit 1; }
  say "building the web app into web/dist (npm ci, npm run build)"
  # --ignore-scripts: esbuild's binary comes as an npm package (@esbuild/<platform>); no
  # dependency needs its install script.
  (cd "$web" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && npm run --silent build)
  printf '%s\n' "$web_sum" >"$web_stamp"
fi

# -- chromium: the browser the web app's tests drive (tests/browser, Playwright) -------------------
# Debian's package (Playwright's own browser download reaches outside the registries). Installed
# when missing and this user may install packages; otherwise the browser tests say what to do.
if [[ -x /usr/bin/chromium ]]; then
  say "chromium is installed ($(/usr/bin/chromium --version 2>/dev/null | head -1))"
elif command -v apt-get >/dev/null; then
  sudo=""; [[ "$(id -u)" == 0 ]] || sudo="sudo -n"
  say "installing Debian's chromium for the browser tests (apt-get)"
  if ! $sudo apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    $sudo apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
      || say "warning: could not install chromium (apt-get install chromium as root); the browser tests will fail until it is"
  fi
else
  say "warning: no /usr/bin/chromium and no apt-get: install Chromium for the browser tests (AKSIO_CHROMIUM=/path)"
fi
