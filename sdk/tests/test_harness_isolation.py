"""The harness ignores the developer's plugin selection, so plugin tests see their plugin."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_plait_runner_ignores_the_shells_plugin_selection(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    pytester.makepyfile(
        """
        def test_http_is_there(plait_runner):
            assert plait_runner.engine.registry.find_task_type("plait.http.Request")
        """
    )
    monkeypatch.setenv("PLAIT_LOAD_PLUGINS", "plait-duckdb")
    monkeypatch.setenv("PLAIT_DISTRIBUTION", "/nonexistent/distribution.toml")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
