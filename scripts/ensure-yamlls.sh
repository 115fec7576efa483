#!/usr/bin/env bash
# Ensure the pinned yaml-language-server (tools/yamlls) is installed and print
# the path of its executable JS entry point (run it as: node <path> --stdio).
#
# Idempotent: runs `npm ci` only when node_modules is missing or when
# package.json / package-lock.json changed since the last successful install
# (tracked with a stamp file inside node_modules). All npm output goes to
# stderr; stdout carries only the path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/tools/yamlls"
STAMP="$DIR/node_modules/.plait-install-stamp"
BIN="$DIR/node_modules/yaml-language-server/bin/yaml-language-server"

if ! command -v node >/dev/null 2>&1; then
  echo "ensure-yamlls: 'node' not found on PATH (Node.js >= 18 is required)" >&2
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-yamlls: 'npm' not found on PATH" >&2
  exit 1
fi

want="$(cat "$DIR/package.json" "$DIR/package-lock.json" | sha256sum | cut -d' ' -f1)"
have=""
[[ -f "$STAMP" ]] && have="$(cat "$STAMP")"

if [[ ! -f "$BIN" || "$want" != "$have" ]]; then
  # Serialise concurrent installs (e.g. parallel test workers).
  # (The lock lives outside node_modules because npm ci deletes that folder.)
  LOCK="${TMPDIR:-/tmp}/plait-yamlls-$(printf '%s' "$DIR" | sha256sum | cut -c1-16).lock"
  exec 9>"$LOCK"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  have=""
  [[ -f "$STAMP" ]] && have="$(cat "$STAMP")"
  if [[ ! -f "$BIN" || "$want" != "$have" ]]; then
    echo "ensure-yamlls: installing yaml-language-server into $DIR/node_modules" >&2
    (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error 1>&2)
    if [[ ! -f "$BIN" ]]; then
      echo "ensure-yamlls: npm ci finished but $BIN is missing" >&2
      exit 1
    fi
    echo "$want" >"$STAMP"
  fi
  exec 9>&-
fi

echo "$BIN"
