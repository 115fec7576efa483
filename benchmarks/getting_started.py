"""The guide's getting-started flow (PROCESS runner, warm virtual-environment cache) against a
plain script doing the same steps: the same `pip install polars` in an already warm virtual
environment, the same Python code in a subprocess, the same DuckDB query stored as JSON lines.

Target: plait under 1.5x the plain script. Prints figures and the ratio; no figure is asserted.

    .venv/bin/python benchmarks/getting_started.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import tempfile
import time
import urllib.request
import venv
from pathlib import Path

import duckdb
from plait.api import Engine

REPO = Path(__file__).resolve().parent.parent
FLOW = REPO / "examples" / "getting_started.yml"

SCRIPT = """\
import polars as pl
data = {data}
df = pl.from_dicts(data)
df.glimpse()
df.select(["brand", "price"]).write_csv("{out}/products.csv")
"""

QUERY = """\
COPY (SELECT brand, round(avg(price), 2) as avg_price
FROM read_csv_auto('{csv}', header=True)
GROUP BY brand
ORDER BY avg_price DESC) TO '{out}' (FORMAT JSON)
"""


def products_api():
    spec = importlib.util.spec_from_file_location("products_api", REPO / "examples/products_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plain_run(api_url: str, env_dir: Path, work: Path) -> None:
    body = urllib.request.urlopen(api_url).read().decode()
    data = json.dumps(json.loads(body)["products"])
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "polars"], check=True)
    script = work / "script.py"
    script.write_text(SCRIPT.format(data=data, out=work))
    subprocess.run([str(python), str(script)], check=True, capture_output=True)
    duckdb.connect().execute(QUERY.format(csv=work / "products.csv", out=work / "result.jsonl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, products_api().serve_products() as base:
        api_url = f"{base}/products"
        env_dir = Path(tmp) / "plain-venv"
        venv.create(env_dir, with_pip=True)
        plain_run(api_url, env_dir, Path(tmp))  # warm: polars installed once
        engine = Engine.create(home=Path(tmp) / "home")
        try:
            flow = engine.load(FLOW)
            engine.run(flow, {"api_url": api_url})  # warm: the beforeCommands cache
            plait_times, plain_times = [], []
            for _ in range(args.repeat):
                started = time.perf_counter()
                execution = engine.run(flow, {"api_url": api_url})
                plait_times.append(time.perf_counter() - started)
                assert str(execution.state) == "SUCCESS", execution.to_document()
                started = time.perf_counter()
                plain_run(api_url, env_dir, Path(tmp))
                plain_times.append(time.perf_counter() - started)
        finally:
            engine.close()
    plait_median, plain_median = statistics.median(plait_times), statistics.median(plain_times)
    print(f"getting-started flow through plait: median {plait_median:.2f} s")
    print(f"the same steps as a plain script:   median {plain_median:.2f} s")
    print(f"ratio {plait_median / plain_median:.2f}x (target < 1.5x)")


if __name__ == "__main__":
    main()
