#!/usr/bin/env bash
# Runs the whole test suite on this machine, installing what it needs first (idempotent):
# the virtual environment, Docker (docker.io, dockerd, the locally built python:slim image),
# the YAML language server, PostgreSQL's server binaries and chromium (browser tests). Extra
# arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh
bash scripts/ensure-docker.sh >/dev/null
bash scripts/ensure-yamlls.sh >/dev/null
bash scripts/ensure-chromium.sh >/dev/null
PLAIT_PG_BIN="$(bash scripts/ensure-postgres.sh)"; export PLAIT_PG_BIN
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
