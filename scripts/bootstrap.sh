#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv with every workspace member
# installed in editable mode plus the development tools. Idempotent: a stamp of the pyproject
# files skips the install when nothing changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
venv="${PLAIT_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
stamp="$venv/.plait-bootstrap"
want="$(cat pyproject.toml core/pyproject.toml sdk/pyproject.toml plugins/*/pyproject.toml scripts/dev-requirements.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    members=(-e sdk -e core)
    for plugin in plugins/*/; do members+=(-e "${plugin%/}"); done
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "${members[@]}" -r scripts/dev-requirements.txt
    echo "$want" > "$stamp"
fi
