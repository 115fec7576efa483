#!/usr/bin/env bash
# The main job, offline: installs what it needs (idempotent), serves the bundled products data set
# on 127.0.0.1 and runs examples/getting_started.yml (the guide's last flow) against it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh
exec .venv/bin/python examples/demo.py "$@"
