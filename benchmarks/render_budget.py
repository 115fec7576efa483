"""What the render budget costs: the 100-task `Return` chain of `kernel.py`, with the budget's
checks as shipped and with them replaced by no-ops (for this measurement only), alternating
runs in one process so that both see the same machine. The chain's figures move by a few per
cent from run to run on a busy machine, so the script also times the chain's own render alone,
many times over, and prints what its difference is as a share of a chained task.

Target: the budget costs under 5 % of the chain's time. Prints figures and the ratio; no figure
is asserted.

    .venv/bin/python benchmarks/render_budget.py [--tasks 100] [--repeat 7]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator
from unittest import mock

from jinja2.sandbox import ImmutableSandboxedEnvironment
from kernel import per_task_overhead  # benchmarks/kernel.py: this script's folder is on sys.path
from plait.builtin import filters
from plait.expressions import ExpressionEngine, budget, engine, sandbox, text

CHAINED_RENDER = "{{ outputs.t0.value }}+"
"""The one expression each chained task renders."""


@contextlib.contextmanager
def _nothing(*_args: object) -> Iterator[None]:
    yield


def _same(value: object, *_args: object) -> object:
    return value


def _none(*_args: object) -> None:
    return None


@contextlib.contextmanager
def without_budget() -> Iterator[None]:
    """Engines created inside run no budget check: the sandbox as Jinja ships it, no filter
    guards, no size or time checks."""
    parent = ImmutableSandboxedEnvironment
    patches = [
        mock.patch.object(engine, "guard_filter", lambda _name, fn: fn),
        mock.patch.object(budget, "rendering", _nothing),
        mock.patch.object(budget, "check_time", _none),
        mock.patch.object(budget, "check_printable", _none),
        mock.patch.object(budget, "check_result", _same),
        mock.patch.object(budget, "bounded_join", "".join),
        mock.patch.object(text, "check_printable", _none),
        mock.patch.object(text, "check_int", _none),
        mock.patch.object(sandbox.PebbleEnvironment, "call", parent.call),
        mock.patch.object(sandbox.PebbleEnvironment, "call_binop", parent.call_binop),
        mock.patch.object(sandbox.PebbleEnvironment, "wrap_str_format", parent.wrap_str_format),
    ]
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


def run_chain(tasks: int, repeat: int, with_budget: bool) -> list[float]:
    """Milliseconds per task for ``repeat`` whole runs of the chain on a fresh engine."""
    with contextlib.nullcontext() if with_budget else without_budget():
        return per_task_overhead(tasks, repeat)


def render_micros(with_budget: bool, number: int = 20_000) -> float:
    """Microseconds per render of the chain's expression (best of five rounds)."""
    variables = {"outputs": {"t0": {"value": "0+++"}}}
    with contextlib.nullcontext() if with_budget else without_budget():
        renders = ExpressionEngine(filters.register_filters(), filters.register_functions())
        rounds = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(number):
                renders.render_value(CHAINED_RENDER, variables)
            rounds.append((time.perf_counter() - started) * 1e6 / number)
    return min(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    on: list[float] = []
    off: list[float] = []
    for _ in range(args.repeat):  # alternate, so that load from elsewhere hits both alike
        on += run_chain(args.tasks, 3, with_budget=True)
        off += run_chain(args.tasks, 3, with_budget=False)
    with_median, without_median = statistics.median(on), statistics.median(off)
    cost = with_median / without_median - 1
    print(
        f"chain of {args.tasks} Return tasks, {len(on)} runs each: with the render budget "
        f"median {with_median:.3f} ms per task (min {min(on):.3f}), without "
        f"{without_median:.3f} ms (min {min(off):.3f})"
    )
    print(f"render budget cost on the chain: {cost * 100:+.1f} % (target < 5 %)")
    with_render, without_render = render_micros(True), render_micros(False)
    share = (with_render - without_render) / 1000 / without_median
    print(
        f"the chain's render alone: {with_render:.1f} us with the budget, {without_render:.1f} us "
        f"without; the difference is {share * 100:.2f} % of a chained task "
        f"(target < 5 %: {share / 0.05:.2f}x of budget)"
    )


if __name__ == "__main__":
    main()
