#!/usr/bin/env bash
# Builds the web UI's front-end assets from npm (pinned by tools/ui/package-lock.json) into
# core/src/plait/server/ui/static/bundle/, which is checked in so that the plait wheel works
# offline with no Node.js. Run it after changing tools/ui/; tests/test_ui_assets.py rebuilds
# into a temporary directory and fails when the checked-in bundle differs.
#
# Usage: scripts/build-ui.sh [OUTPUT_DIR]   (default: the checked-in bundle directory)
# Idempotent: `npm ci` runs only when the lockfile changed since the last install.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/tools/ui"
out="${1:-$root/core/src/plait/server/ui/static/bundle}"
stamp="$src/node_modules/.plait-install-stamp"
want="$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  lock="${TMPDIR:-/tmp}/plait-ui-$(printf '%s' "$src" | sha256sum | cut -c1-16).lock"
  exec 9>"$lock"
  flock 9
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    (cd "$src" && npm ci --no-audit --no-fund --loglevel=error 1>&2)
    echo "$want" >"$stamp"
  fi
  exec 9>&-
fi
mkdir -p "$out"
cp "$src/node_modules/htmx.org/dist/htmx.min.js" "$out/htmx.min.js"
# Each tools/ui/src/<name>.js is an entry point bundled (with what it imports) to <name>.js.
shopt -s nullglob
for entry in "$src"/src/*.js; do
  "$src/node_modules/.bin/esbuild" "$entry" --bundle --minify --format=iife \
    --target=es2020 --legal-comments=none --log-level=warning \
    --outfile="$out/$(basename "$entry")"
done
