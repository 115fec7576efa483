"""Every hook spec is documented (as datasette and llm test theirs)."""

from __future__ import annotations

from pathlib import Path

from plait_sdk import hookspecs

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins" / "hooks.md"


def _hook_names() -> list[str]:
    return [name for name in dir(hookspecs) if name.startswith("register_")]


def test_every_hook_spec_has_a_section():
    text = DOC.read_text()
    assert _hook_names(), "no hook specs found"
    missing = [name for name in _hook_names() if f"## {name}" not in text]
    assert not missing, f"hooks missing from {DOC}: {missing}"


def test_no_section_documents_a_hook_that_does_not_exist():
    text = DOC.read_text()
    documented = [
        line[3:].split("(")[0].strip()
        for line in text.splitlines()
        if line.startswith("## register_")
    ]
    assert sorted(documented) == sorted(_hook_names())
