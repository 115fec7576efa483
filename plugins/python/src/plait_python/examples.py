"""Example flows of the Python task types, shown in the reference docs and run by the tests."""

from __future__ import annotations

from plait_sdk import Example
from plait_sdk.task import example_flow

SCRIPT = (
    Example(
        title="Compute in a local process and pass values and files to the next task",
        flow=example_flow(
            "python_script_outputs",
            variables="""\
  rows: [{"name": "a", "ok": true}, {"name": "b", "ok": false}]
""",
            tasks="""\
  - id: python
    type: io.kestra.plugin.scripts.python.Script
    runner: PROCESS
    script: |
      import json
      rows = {{ vars.rows }}  # JSON: true, false and null work in the script
      kept = [row["name"] for row in rows if row["ok"]]
      with open("{{ outputDir }}/kept.txt", "w") as out:
          out.write("\\n".join(kept))
      print("::" + json.dumps({"outputs": {"kept": len(kept)}}) + "::")

  - id: report
    type: io.kestra.plugin.core.log.Log
    message: >-
      kept {{ outputs.python.vars.kept }} row(s):
      {{ outputs.python.outputFiles['kept.txt'] }}
""",
        ),
    ),
    Example(
        title="Install a package for the script without touching the engine's environment",
        flow=example_flow(
            "python_script_packages",
            """\
  - id: python
    type: io.kestra.plugin.scripts.python.Script
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    beforeCommands:
      - pip install six
    warningOnStdErr: false
    script: |
      import six
      print(f"six {six.__version__} in a cached virtual environment")
""",
        ),
    ),
    Example(
        title="Kestra's way: dependencies and Kestra.outputs",
        flow=example_flow(
            "python_script_kestra",
            """\
  - id: python
    type: io.kestra.plugin.scripts.python.Script
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    dependencies:
      - six
    script: |
      import six
      from kestra import Kestra
      Kestra.outputs({"six": six.__version__})
      Kestra.counter("installed", 1)

  - id: report
    type: io.kestra.plugin.core.log.Log
    message: "six {{ outputs.python.vars.six }}, installed once and cached"
""",
        ),
    ),
    Example(
        title="Run the script in a Docker container",
        flow=example_flow(
            "python_script_docker",
            """\
  - id: python
    type: io.kestra.plugin.scripts.python.Script
    docker:
      image: python:slim
    timeout: PT5M
    script: |
      import platform
      print("Python", platform.python_version(), "in {{ workingDir }}")
      with open("{{ outputDir }}/where.txt", "w") as out:
          out.write(platform.platform())
""",
        ),
    ),
)

COMMANDS = (
    Example(
        title="Run a program given as an input file and keep the files it writes",
        flow=example_flow(
            "python_commands",
            """\
  - id: python
    type: io.kestra.plugin.scripts.python.Commands
    runner: PROCESS
    inputFiles:
      main.py: |
        import csv, sys
        rows = int(sys.argv[1])
        with open("squares.csv", "w", newline="") as out:
            csv.writer(out).writerows((n, n * n) for n in range(rows))
        print(f"wrote {rows} rows")
    commands:
      - python main.py 5
    outputFiles:
      - "*.csv"
""",
        ),
    ),
    Example(
        title="Run commands in a container with the Docker task runner",
        flow=example_flow(
            "python_commands_docker",
            """\
  - id: python
    type: io.kestra.plugin.scripts.python.Commands
    containerImage: python:slim
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      pullPolicy: IF_NOT_PRESENT
    commands:
      - python --version
      - python -c 'import sys; print(sys.platform)'
""",
        ),
    ),
)
