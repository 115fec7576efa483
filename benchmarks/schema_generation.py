"""Time to generate the whole-flow JSON Schema for the installed (bundled) plugins.

Editors ask for the schema whenever a flow is opened once the web server serves it, and
``plait schema flow`` runs it on every plugin install: the target is under 200 ms. The first
generation pays for pydantic building each model's schema once; later ones show the steady cost.
Prints figures; asserts nothing.

    .venv/bin/python benchmarks/schema_generation.py
    .venv/bin/python benchmarks/schema_generation.py --repeat 50
"""

from __future__ import annotations

import argparse
import statistics
import time

TARGET_MS = 200.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=20, help="Generations after the first.")
    args = parser.parse_args()

    started = time.perf_counter()
    from plait.plugins import build_registry
    from plait.schema import flow_schema, to_json

    registry = build_registry()
    loaded_ms = (time.perf_counter() - started) * 1000

    def generate_ms() -> float:
        begin = time.perf_counter()
        to_json(flow_schema(registry.task_types))
        return (time.perf_counter() - begin) * 1000

    first = generate_ms()
    later = [generate_ms() for _ in range(args.repeat)]
    size = len(to_json(flow_schema(registry.task_types)).encode("utf-8"))
    print(
        f"task types:            {len(registry.canonical_types)} "
        f"({len(registry.task_types)} ids and aliases)"
    )
    print(f"imports + registry:    {loaded_ms:7.1f} ms")
    print(f"first generation:      {first:7.1f} ms  ({first / TARGET_MS:.2f}x the 200 ms target)")
    print(
        f"later, median:         {statistics.median(later):7.1f} ms  "
        f"({statistics.median(later) / TARGET_MS:.2f}x the target)"
    )
    print(f"later, best:           {min(later):7.1f} ms")
    print(f"schema size:           {size / 1024:7.1f} KiB")


if __name__ == "__main__":
    main()
