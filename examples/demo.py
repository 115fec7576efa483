"""The main job, offline: serve the bundled products data set on 127.0.0.1 in the shape of the
guide's API, run the guide's getting-started flow against it, then show the Outputs view and a
preview of the query result, through the same `plait` commands a user would type."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from products_api import serve_products

HERE = Path(__file__).resolve().parent
FLOW = HERE / "getting_started.yml"
PLAIT = [sys.executable, "-m", "plait.cli"]


def plait(*args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    print(f"\n$ plait {shlex.join(args)}", flush=True)
    return subprocess.run([*PLAIT, *args], text=True, capture_output=capture, check=False)


def main() -> int:
    with serve_products() as base_url:
        api_url = f"{base_url}/products"
        print(f"products API served at {api_url}")
        done = plait("run", str(FLOW), "-i", f"api_url={api_url}", "--json", capture=True)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        print(done.stdout)
        return done.returncode
    execution = json.loads(done.stdout)
    print(f"execution {execution['id']} ended {execution['state']}")
    plait("outputs", execution["id"])
    query = next(run for run in execution["taskRunList"] if run["taskId"] == "sqlQuery")
    plait("storage", "preview", query["outputs"]["uri"])
    plait("eval", execution["id"], "{{ outputs.api.body | jq('.products[0].title') | first }}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
