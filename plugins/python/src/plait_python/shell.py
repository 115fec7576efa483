"""The command line a task run hands to its interpreter, the same for a process and a container.

``beforeCommands`` and the commands run in one shell, so that what the former set up (``cd``,
``export``, an activated environment) holds for the latter, as in Kestra.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import PurePath

SETUP_FAILED = "_plait_setup_failed"
"""Shell variable set when a ``beforeCommand`` fails without ``failFast``."""
POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh"})

SCRIPT_BOOTSTRAP = """\
import os, runpy, sys
path = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(path)
try:
    runpy.run_path(path, {"true": True, "false": False, "null": None}, "__main__")
except SystemExit:
    raise
except BaseException as error:
    import traceback
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb)
    sys.exit(1)
"""
"""Runs the script as ``__main__`` with ``true``/``false``/``null`` among its globals, so JSON
rendered into the code works. Nothing is added to the script file itself: line numbers,
``from __future__`` imports and docstrings stay as written, and tracebacks start at the script."""


def is_posix_shell(interpreter: Sequence[str]) -> bool:
    return PurePath(interpreter[0]).name in POSIX_SHELLS


def run_python_script(script_path: str) -> str:
    """The shell command that runs the rendered script file with ``python`` from ``PATH``."""
    return f"python -c {shlex.quote(SCRIPT_BOOTSTRAP)} {shlex.quote(script_path)}"


def command_line(
    interpreter: Sequence[str],
    before_commands: Sequence[str],
    commands: Sequence[str],
    *,
    fail_fast: bool,
    marker: str | None = None,
) -> list[str]:
    """``interpreter`` followed by one argument holding every command, one per line.

    ``marker`` names a file created once ``before_commands`` have all run successfully (shells
    only): the virtual environment cache uses it to tell a finished setup from one that failed.
    Without ``fail_fast`` a failing command does not stop the shell, so each one's status is
    noted and the marker is only written if none failed.
    """
    shell = is_posix_shell(interpreter)
    lines = ["set -e"] if fail_fast and shell else []
    track = marker is not None and shell and not fail_fast
    for command in before_commands:
        lines.append(command)
        if track:
            lines.append(f"[ $? -eq 0 ] || {SETUP_FAILED}=1")
    if marker is not None and shell:
        lines.append(f'[ -z "${{{SETUP_FAILED}:-}}" ] && : > {shlex.quote(marker)}')
    lines.extend(commands)
    return [*interpreter, "\n".join(lines)]
