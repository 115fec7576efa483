"""The plugin index (plait.plugin_index): a registry built with it imports a plugin only when
one of its types is looked up, and never holds anything else than the registry built without
it; installing, removing or editing a plugin is seen by the next run; an unreadable or wrong
index is ignored and replaced.

Each registry is built in a fresh process (modules imported by one build must not hide what
another imports), with bytecode writing off so that importing a plugin leaves its folder as it
was, and the plugins' files aged by a minute where the index must trust them (it does not
trust files changed in the last seconds)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from test_plugin_loading import install_plugin

PROBE = """
import json, sys
from pathlib import Path
from plait.plugins import BUILTINS, build_registry

def plugin_modules():
    installed = {m.split(".")[0] for m in sys.modules if m.startswith("plait_")} - {"plait_sdk"}
    builtin = {f"plait.builtin.{name}" for name in BUILTINS} & set(sys.modules)
    return sorted(installed | builtin)

index = None if sys.argv[1] == "-" else Path(sys.argv[1])
registry = build_registry(index=index)
report = {"imported": plugin_modules()}
report["looked"] = {n: getattr(registry.find_task_type(n), "type", None) for n in sys.argv[2:]}
report["importedAfterLookup"] = plugin_modules()
report["filters"] = sorted(registry.filters)
report["taskTypes"] = sorted(registry.task_types)
report["triggerTypes"] = sorted(registry.trigger_types)
report["plugins"] = [
    [p.name, p.distribution, p.version, p.task_types, p.trigger_types, p.provides]
    for p in registry.plugins
]
report["skipped"] = registry.skipped
report["filteredOut"] = sorted(registry.filtered_out)
print(json.dumps(report))
"""
WHOLE = ("filters", "taskTypes", "triggerTypes", "plugins", "skipped", "filteredOut")
"""What a registry holds, as the probe reports it."""

TYPES_ONLY = """
    from plait_sdk import SDK_MAJOR, Task, TaskOutputs, TaskProperties, hookimpl

    PLAIT_SDK_MAJOR = SDK_MAJOR

    class Thing(Task[TaskProperties, TaskOutputs]):
        \"\"\"A thing.\"\"\"

        type = "acme.Thing"
        aliases = ("io.acme.Thing",)

        def run(self, props, ctx):
            return TaskOutputs()

    @hookimpl
    def register_task_types():
        return [Thing]
"""
WITH_A_FILTER = (
    TYPES_ONLY
    + """
    @hookimpl
    def register_filters():
        return {"shout": lambda text: text.upper()}
"""
)


class Probe:
    """Builds registries in fresh processes against one index folder and one site folder."""

    def __init__(self, tmp_path: Path) -> None:
        self.index = tmp_path / "index"
        self.site = tmp_path / "site"
        self.site.mkdir()
        self.cwd = tmp_path / "cwd"  # on sys.path as '': keep it free of metadata folders
        self.cwd.mkdir()

    @property
    def file(self) -> Path:
        (found,) = self.index.glob("plugins-*.json")
        return found

    def build(
        self, *lookups: str, index: bool = True, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        clean = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PLAIT_LOAD_PLUGINS", "PLAIT_DISTRIBUTION", "PYTHONPATH")
        }
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(self.index) if index else "-", *lookups],
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env={
                **clean,
                "PYTHONPATH": str(self.site),
                "PYTHONDONTWRITEBYTECODE": "1",
                **(env or {}),
            },
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    def whole(self, report: dict[str, Any]) -> dict[str, Any]:
        return {key: report[key] for key in WHOLE}

    def install(self, source: str = TYPES_ONLY) -> None:
        install_plugin(self.site, "acme", source)

    def remove(self) -> None:
        shutil.rmtree(self.site / "plait_acme")
        shutil.rmtree(self.site / "plait_acme-0.1.dist-info")

    def age(self) -> None:
        """Make the site's files a minute old, as an install done earlier leaves them."""
        old = time.time() - 60
        for path in [self.site, *self.site.rglob("*")]:
            os.utime(path, (old, old))


@pytest.fixture
def probe(tmp_path: Path) -> Probe:
    return Probe(tmp_path)


EXTERNAL_KEPT = ["plait_postgres"]
"""Installed plugins of the development environment registering more than types."""
KEPT = [
    "plait.builtin.filters",
    "plait.builtin.kv",
    "plait.builtin.secrets",
    "plait.builtin.storage",
    *EXTERNAL_KEPT,
]
"""The plugins registering more than types (filters, functions, backends, secrets): always
imported (plait-postgres registers a repository; its entry point imports no driver until that
repository is chosen)."""


def test_a_registry_imports_a_plugin_when_its_type_is_looked_up(probe: Probe) -> None:
    first = probe.build()
    assert {"plait_http", "plait_python", "plait_duckdb", "plait.builtin.triggers"} <= set(
        first["imported"]
    )
    assert probe.file.is_file()
    second = probe.build("io.kestra.plugin.jdbc.duckdb.Query", "plait.core.Log")
    assert second["imported"] == KEPT
    assert second["looked"] == {
        "io.kestra.plugin.jdbc.duckdb.Query": "plait.duckdb.Query",
        "plait.core.Log": "plait.core.Log",
    }
    assert second["importedAfterLookup"] == sorted([*KEPT, "plait.builtin.tasks", "plait_duckdb"])
    assert probe.whole(second) == probe.whole(first) == probe.whole(probe.build(index=False))


def test_the_index_never_changes_what_load_plugins_selects(probe: Probe) -> None:
    probe.build()
    env = {"PLAIT_LOAD_PLUGINS": "plait-http,plait-htp"}
    lazy = probe.build("plait.duckdb.Query", "plait.http.Request", env=env)
    assert lazy["looked"] == {
        "plait.duckdb.Query": None,
        "plait.http.Request": "plait.http.Request",
    }
    assert lazy["filteredOut"] == ["plait-duckdb", "plait-postgres", "plait-python"]
    assert any("plait-htp" in reason for reason in lazy["skipped"])
    assert probe.whole(lazy) == probe.whole(probe.build(index=False, env=env))


def test_a_plugin_installed_or_removed_is_seen_at_once(probe: Probe) -> None:
    probe.build()
    probe.install()
    installed = probe.build("io.acme.Thing")
    assert installed["looked"] == {"io.acme.Thing": "acme.Thing"}
    probe.age()
    probe.build()  # the index now knows the plugin...
    deferred = probe.build("acme.Thing")
    assert "plait_acme" not in deferred["imported"]  # ...and defers it
    assert deferred["looked"] == {"acme.Thing": "acme.Thing"}
    assert "plait_acme" in deferred["importedAfterLookup"]
    probe.remove()
    removed = probe.build("acme.Thing")
    assert removed["looked"] == {"acme.Thing": None}
    assert "acme.Thing" not in removed["taskTypes"]
    assert probe.whole(removed) == probe.whole(probe.build(index=False))


def test_a_plugin_whose_files_change_is_imported_again(probe: Probe) -> None:
    """An editable install's sources change in place: the index must not answer for them."""
    probe.install()
    probe.age()
    probe.build()
    assert "plait_acme" not in probe.build()["imported"]
    (probe.site / "plait_acme" / "plugin.py").write_text(textwrap.dedent(WITH_A_FILTER))
    changed = probe.build()
    assert "plait_acme" in changed["imported"]
    assert "shout" in changed["filters"]
    assert probe.whole(changed) == probe.whole(probe.build(index=False))


@pytest.mark.parametrize("content", ["{not json", "[]", '{"key": 1}', "", "[" * 100_000])
def test_an_unreadable_index_is_ignored_and_replaced(probe: Probe, content: str) -> None:
    probe.build()
    probe.file.write_text(content)
    report = probe.build("plait.http.Request")
    assert report["looked"] == {"plait.http.Request": "plait.http.Request"}
    assert probe.whole(report) == probe.whole(probe.build(index=False))
    assert "typesOnly" in json.loads(probe.file.read_text())


def test_an_index_wrong_about_a_plugin_is_dropped(probe: Probe) -> None:
    """The index claims plait-http registers a type it does not: looking that type up imports
    the plugin, which shows the claim wrong, and the registry is built again without it."""
    probe.build()
    data = json.loads(probe.file.read_text())
    (http,) = [name for name in data["typesOnly"] if name.startswith("plait-http ")]
    data["typesOnly"][http]["taskTypes"]["acme.Ghost"] = []
    probe.file.write_text(json.dumps(data))
    report = probe.build("acme.Ghost", "plait.http.Request")
    assert report["looked"] == {"acme.Ghost": None, "plait.http.Request": "plait.http.Request"}
    assert "acme.Ghost" not in report["taskTypes"]
    assert probe.whole(report) == probe.whole(probe.build(index=False))
    assert not list(probe.index.glob("plugins-*.json"))  # forgotten...
    probe.build()
    assert "acme.Ghost" not in probe.file.read_text()  # ...and written afresh by the next run


RUN = """
import sys
from plait.cli.main import main

sys.argv = ["plait", "run", sys.argv[1]]
try:
    main()
except SystemExit as end:
    assert end.code in (0, None), end.code
imported = {m.split(".")[0] for m in sys.modules if m.startswith("plait_")} - {"plait_sdk"}
print("imported:", *sorted(imported))
"""


def test_plait_run_imports_only_the_plugins_its_flow_uses(probe: Probe, tmp_path: Path) -> None:
    flow = tmp_path / "flow.yml"
    flow.write_text(
        "id: f\nnamespace: dev\ntasks:\n  - id: hi\n    type: plait.core.Log\n    message: hi\n"
    )
    env = {**os.environ, "PLAIT_HOME": str(tmp_path / "home")}
    env.pop("PLAIT_LOAD_PLUGINS", None)

    def imported() -> str:
        done = subprocess.run(
            [sys.executable, "-c", RUN, str(flow)],
            capture_output=True,
            text=True,
            cwd=probe.cwd,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()[-1]

    assert "plait_http" in imported()  # no index yet: every plugin is imported once
    assert imported().split()[1:] == EXTERNAL_KEPT
    assert list((tmp_path / "home" / "cache" / "plugins").glob("plugins-*.json"))
