"""Flows the executions views' tests share (over HTTP and in the browser): one that sleeps
long enough to be seen running and killed, one that fails."""

from __future__ import annotations

SLEEPING = """\
id: sleeping
namespace: uiexec.live
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
"""

FAILING = """\
id: failing
namespace: uiexec.fail
tasks:
  - id: ok
    type: plait.core.Return
    format: fine
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: not today
"""
