"""Which beforeCommands a cached environment may stand for: package installs whose effect is
fixed by their text, at the start of the list."""

from __future__ import annotations

import pytest
from plait_python.setup_commands import environment_setup, installs_packages_only


@pytest.mark.parametrize(
    "command",
    [
        "pip install polars",  # the guide's command
        "pip install pandas kestra",  # Kestra's "Manage Python Dependencies" guide
        "pip3 install -q 'polars==1.2' \"duckdb>=1,<2\" 'pandas[excel]'",
        "python -m pip install --upgrade polars",
        "python3.12 -m pip install --no-cache-dir polars",
        "uv pip install polars",
        "pip install --index-url https://example.org/simple polars",
        "pip install --root-user-action=ignore --no-index polars",
    ],
)
def test_package_installs_qualify(command: str) -> None:
    assert installs_packages_only(command)


@pytest.mark.parametrize(
    "command",
    [
        "pip install -r requirements.txt",  # reads a file the key does not cover
        "pip install .",
        "pip install ./wheels/x-1.0-py3-none-any.whl",
        "pip install -e src",
        "pip install --find-links wheels polars",
        "pip install --index-url=/srv/simple polars",
        "pip install --user polars",  # outside the environment
        "pip install --target lib polars",
        "pip install polars && echo done",
        "pip install polars; rm -rf x",
        "pip install polars > log.txt",
        "pip install $PACKAGES",
        "pip install `cat deps`",
        "pip install pol*",
        "pip install pandas[excel]",  # unquoted: a glob the working directory could match
        "PIP_INDEX_URL=x pip install polars",
        "pip list",
        "pip download polars",
        "python script.py",
        "python -m venv .venv",
        "pip install 'unclosed",
    ],
)
def test_anything_else_runs_every_time(command: str) -> None:
    assert not installs_packages_only(command)


def test_only_the_leading_installs_count() -> None:
    """After `. .venv/bin/activate` (Kestra's guide), `pip` is another environment's."""
    assert environment_setup(["pip install a", "pip install b", "echo x", "pip install c"]) == 2
    before = ["python3 -m venv .venv", ". .venv/bin/activate", "pip install pandas kestra"]
    assert environment_setup(before) == 0
    assert environment_setup([]) == 0
