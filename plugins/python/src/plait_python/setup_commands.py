"""Which ``beforeCommands`` only install packages, so that a cached environment can stand for them.

A command such as ``pip install polars`` changes nothing but the Python environment it runs in.
When that environment is cached under a key made of the exact commands, running the command
again on a warm cache finds every requirement satisfied and only costs time (a second or more
for pip to start and check). Such commands, at the *start* of ``beforeCommands``, therefore run
once, when the environment is built, and are skipped afterwards.

The test is deliberately narrow: a command qualifies only if nothing outside its own text can
change what it installs or where. So: ``pip``/``pip3``/``python -m pip``/``uv pip`` followed by
``install``, options from a list of those that read no file, and requirements that are names
with optional extras and version constraints. Anything else (``-r requirements.txt``, a path,
a URL, ``--user``, an environment assignment, shell syntax such as ``&&``, ``$VAR``, globs, a
command after the first one that does not qualify) runs on every execution as before.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from plait_sdk import TaskLogger

PIP_PROGRAM = re.compile(r"^pip(3(\.\d+)?)?$")
PYTHON_PROGRAM = re.compile(r"^python(3(\.\d+)?)?$")
REQUIREMENT = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"  # name
    r"(\[[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*\])?"  # [extras]
    r"((~=|==|!=|<=|>=|<|>|===)[A-Za-z0-9.*+!_-]+"  # a version constraint...
    r"(,(~=|==|!=|<=|>=|<|>|===)[A-Za-z0-9.*+!_-]+)*)?$"  # ...and more, comma-separated
)
FLAGS = frozenset(
    {
        "-q",
        "-qq",
        "--quiet",
        "-v",
        "--verbose",
        "-U",
        "--upgrade",
        "--pre",
        "--no-deps",
        "--no-index",
        "--no-cache-dir",
        "--no-cache",
        "--prefer-binary",
        "--disable-pip-version-check",
        "--no-warn-script-location",
        "--no-input",
        "--no-build-isolation",
        "--compile",
        "--no-compile",
        "--force-reinstall",
        "--reinstall",
        "-I",
        "--ignore-installed",
        "--break-system-packages",
        "--progress-bar=off",
        "--root-user-action=ignore",
    }
)
"""Options without a value that read no file and install nowhere else."""
VALUED = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "--trusted-host",
        "--only-binary",
        "--no-binary",
        "--upgrade-strategy",
        "--timeout",
        "--retries",
        "--progress-bar",
        "--root-user-action",
        "--resolution",
    }
)
"""Options taking a value (``--opt value`` or ``--opt=value``) that names no file."""
UNSAFE_CHARACTERS = frozenset("$`*?~\\")
"""Expansions (variables, commands, globs, home) and escapes: the shell could change the
word."""


def installs_packages_only(command: str) -> bool:
    """Whether ``command`` is a package install whose effect is fixed by its text."""
    words = _words(command)
    if words is None:
        return False
    arguments = _install_arguments(words)
    return arguments is not None and _plain_arguments(arguments)


def environment_setup(before_commands: Sequence[str]) -> int:
    """How many commands at the start of ``before_commands`` only install packages."""
    count = 0
    for command in before_commands:
        if not installs_packages_only(command):
            break
        count += 1
    return count


def _words(command: str) -> list[str] | None:
    """The words of a simple command, or None if the text uses any shell syntax beyond
    quoting (operators, redirections, expansions) or is not one command."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:
        return None
    if "\n" in command.strip() or not words:
        return None
    if any(set(word) <= set(lexer.punctuation_chars) for word in words):
        return None
    if any(UNSAFE_CHARACTERS & set(word) for word in words) or _unquoted_brackets(command):
        return None
    return words


def _unquoted_brackets(command: str) -> bool:
    """Whether a word has ``[`` outside quotes: a glob that files of the working directory
    could match (``"pandas[all]"`` is safe, ``pandas[all]`` only almost)."""
    lexer = shlex.shlex(command, posix=False)
    lexer.whitespace_split = True
    try:
        return any("[" in word and word[0] not in "'\"" for word in lexer)
    except ValueError:
        return True


def _install_arguments(words: list[str]) -> list[str] | None:
    """What follows ``install`` when ``words`` run pip or uv's pip interface; else None."""
    if PIP_PROGRAM.match(words[0]):
        rest = words[1:]
    elif PYTHON_PROGRAM.match(words[0]) and words[1:3] == ["-m", "pip"]:
        rest = words[3:]
    elif words[0] == "uv" and words[1:2] == ["pip"]:
        rest = words[2:]
    else:
        return None
    return rest[1:] if rest[:1] == ["install"] else None


def _plain_arguments(arguments: list[str]) -> bool:
    expect_value = False
    for argument in arguments:
        option, equals, value = argument.partition("=")
        if expect_value:
            expect_value = False
            if not _remote(argument):
                return False
        elif argument in VALUED:
            expect_value = True
        elif equals and option in VALUED:
            if not _remote(value):
                return False
        elif argument not in FLAGS and not _requirement(argument):
            return False
    return not expect_value


def _requirement(argument: str) -> bool:
    return not argument.startswith("-") and REQUIREMENT.match(argument) is not None


def _remote(value: str) -> bool:
    """An option value that names no local file: a word, or an http(s) URL (an index)."""
    return "/" not in value or value.startswith(("http://", "https://"))


def skip_environment_setup(
    before_commands: Sequence[str], log: TaskLogger, environment: str
) -> list[str]:
    """``before_commands`` without the package installs at their start, which ``environment``
    (cached under a key covering them) already holds; says so in the task log."""
    count = environment_setup(before_commands)
    if count:
        skipped = "; ".join(before_commands[:count])
        log.info(f"already installed in {environment}, not run again: {skipped}")
    return list(before_commands[count:])
