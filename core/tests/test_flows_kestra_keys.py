"""Flow, task and input keys Kestra users write that plait used to refuse: ``revision``,
``taskDefaults``, ``logToFile``, ``taskCache``, input ``prefill``, system labels, and flow
outputs declared STRING that hold a map. Each test names the Kestra source, test or
documentation page whose behaviour it reproduces (kestra-io/kestra, kestra.io/docs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest
from plait.api import Engine
from plait.errors import FlowValidationError
from plait.flows import parse_flow
from plait.state.model import LogEntry, State
from plait_sdk import RunContext, Task, TaskFailure, TaskOutputs, TaskProperties, output, prop
from support.flows import make_engine, run_of, run_text, runs_of


def problems(source: str) -> list[str]:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(dedent(source), file="flow.yml")
    return [str(p) for p in info.value.problems]


ONE_TASK = """\
    id: keys
    namespace: dev
    {extra}
    tasks:
      - id: r
        type: plait.core.Return
        format: "{{{{ flow.revision }}}}"
    """


# -- revision ------------------------------------------------------------------------------------


def test_a_written_revision_is_accepted_and_the_stored_one_is_used(engine: Engine) -> None:
    # Kestra sets a flow's revision when it stores it (AbstractFlow.revision, @Min(1)); a
    # flow exported from Kestra carries one.
    done = run_text(engine, ONE_TASK.format(extra="revision: 7"))
    assert done.state is State.SUCCESS
    assert done.flow_revision == 1
    assert runs_of(done, "r")[0].outputs == {"value": "1"}


@pytest.mark.parametrize("value", ["0", "two", "1.5", "true"])
def test_a_revision_must_be_a_revision_number(value: str) -> None:
    assert problems(ONE_TASK.format(extra=f"revision: {value}")) == [
        f"flow.yml:3:11: 'revision' must be a whole number of at least 1, got "
        f"{value if value != 'two' else repr(value)} (it is set when the flow is stored and may "
        "be left out)"
    ]


# -- taskDefaults ----------------------------------------------------------------------------------


def test_task_defaults_is_the_older_name_of_plugin_defaults(engine: Engine) -> None:
    # Flow.setTaskDefaults: the deprecated key fills pluginDefaults.
    done = run_text(
        engine,
        """\
        id: legacy
        namespace: dev
        taskDefaults:
          - type: io.kestra.plugin.core.debug.Return
            values:
              format: from the defaults
        tasks:
          - id: r
            type: plait.core.Return
        """,
    )
    assert done.state is State.SUCCESS
    assert runs_of(done, "r")[0].outputs == {"value": "from the defaults"}


def test_task_defaults_problems_point_into_task_defaults() -> None:
    assert problems(
        """\
        id: legacy
        namespace: dev
        taskDefaults:
          - values: {format: x}
        tasks:
          - id: r
            type: plait.core.Return
        """
    ) == [
        "flow.yml:4:5: a plugin default needs a 'type' (a task type or a prefix of task types), "
        "got nothing"
    ]


def test_task_defaults_and_plugin_defaults_together_are_refused() -> None:
    # Kestra keeps whichever Jackson reads last; plait refuses the ambiguity (documented).
    assert problems(
        """\
        id: both
        namespace: dev
        pluginDefaults: []
        taskDefaults: []
        tasks:
          - id: r
            type: plait.core.Return
        """
    ) == [
        "flow.yml:4:1: 'taskDefaults' is the older name of 'pluginDefaults'; write one of them, "
        "not both"
    ]


# -- logToFile ---------------------------------------------------------------------------------


class Lines:
    """A listener keeping the log lines shown live (what `plait run` prints)."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def task_started(self, execution: object, run: object) -> None:
        pass

    def task_ended(self, execution: object, run: object) -> None:
        pass

    def log(self, entry: LogEntry) -> None:
        self.entries.append(entry)


LOG_FLOW = """\
    id: logs
    namespace: dev
    {flow_key}
    tasks:
      - id: quiet
        type: io.kestra.plugin.core.log.Log
        {task_key}
        message: ["line one", "secret {{{{ secret('TOKEN') }}}}"]
      - id: loud
        type: io.kestra.plugin.core.log.Log
        logToFile: false
        message: in the logs
    """


@pytest.mark.parametrize(
    ("flow_key", "task_key"), [("", "logToFile: true"), ("logToFile: true", "")]
)
def test_log_to_file_keeps_the_lines_in_a_file_of_the_task_run(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, flow_key: str, task_key: str
) -> None:
    # Task.logToFile / RunContextLogger: the lines go to a file in the internal storage, whose
    # URI the attempt keeps (TaskRunAttempt.logFile), instead of one log entry each. The
    # flow's logToFile is every task's default; a task's own value wins.
    monkeypatch.setenv("SECRET_TOKEN", "czNjcjN0")  # base64 of s3cr3t
    lines = Lines()
    flow = engine.load(dedent(LOG_FLOW.format(flow_key=flow_key, task_key=task_key)))
    done = engine.execute(engine.prepare(flow, listener=lines)).execution
    assert done.state is State.SUCCESS
    [quiet] = runs_of(done, "quiet")
    uri = quiet.attempts[-1].log_file
    assert uri is not None and uri.endswith("/log-attempt-1.txt")
    assert quiet.to_document()["attempts"][-1]["logFile"] == uri
    with engine.storage.open(uri) as stream:
        text = stream.read().decode()
    assert [line.split(" ", 2)[1:] for line in text.splitlines()] == [
        ["INFO", "line one"],
        ["INFO", "secret ********"],  # masked in the file too
    ]
    logged = [(e.task_id, e.message) for e in engine.repository.logs(done.id)]
    assert logged == [("quiet", f"log lines of attempt 1: {uri}"), ("loud", "in the logs")]
    assert ("quiet", "line one") in [(e.task_id, e.message) for e in lines.entries]  # shown live
    assert runs_of(done, "loud")[0].attempts[-1].log_file is None


class FlakyProperties(TaskProperties):
    marker: str = prop(description="Created by the first attempt, which then fails.")


class Flaky(Task[FlakyProperties, TaskOutputs]):
    """Logs which attempt it is; the first one fails (test task)."""

    type = "test.Flaky"
    Properties = FlakyProperties

    def run(self, props: FlakyProperties, ctx: RunContext) -> TaskOutputs:
        marker = Path(props.marker)
        if not marker.exists():
            marker.touch()
            ctx.log.info("first attempt")
            raise TaskFailure("the first attempt fails")
        ctx.log.info("second attempt")
        return TaskOutputs()


def test_log_to_file_keeps_one_file_per_attempt(own_engine: Engine, tmp_path: Path) -> None:
    # TaskRunAttempt.logFile: each attempt of a retried task keeps its own lines.
    done = run_text(
        own_engine,
        f"""\
        id: flaky
        namespace: dev
        tasks:
          - id: t
            type: test.Flaky
            marker: {tmp_path / "marker"}
            logToFile: true
            retry: {{type: constant, interval: PT0.01S, maxAttempts: 2}}
        """,
    )
    assert done.state is State.SUCCESS
    files = [attempt.log_file for attempt in run_of(done, "t").attempts]
    assert [uri.rsplit("/", 1)[-1] for uri in files if uri] == [
        "log-attempt-1.txt",
        "log-attempt-2.txt",
    ]
    contents = []
    for uri in files:
        with own_engine.storage.open(uri) as stream:
            contents.append(stream.read().decode().split(" ", 1)[1])
    assert contents == ["INFO first attempt\n", "INFO second attempt\n"]


def test_log_to_file_from_plugin_defaults(engine: Engine) -> None:
    done = run_text(
        engine,
        """\
        id: defaults
        namespace: dev
        pluginDefaults:
          - type: io.kestra.plugin.core.log
            values:
              logToFile: true
        tasks:
          - id: quiet
            type: plait.core.Log
            message: hidden
        """,
    )
    assert runs_of(done, "quiet")[0].attempts[-1].log_file is not None
    [pointer] = engine.repository.logs(done.id)
    assert pointer.message.startswith("log lines of attempt 1: plait:///")


def test_log_to_file_must_be_true_or_false() -> None:
    assert problems(LOG_FLOW.format(flow_key="logToFile: sometimes", task_key="")) == [
        "flow.yml:3:12: 'logToFile' must be true or false, got 'sometimes'"
    ]


# -- taskCache -------------------------------------------------------------------------------------


class MakeProperties(TaskProperties):
    path: str = prop(description="A file that gets one line per real run.")
    text: str = prop(description="Written into the produced file.")


class MakeOutputs(TaskOutputs):
    uri: str = output(description="The produced file.")


class Make(Task[MakeProperties, MakeOutputs]):
    """Counts its runs in a local file and stores ``text`` as a file of the run (test task)."""

    type = "test.Make"
    Properties = MakeProperties
    Outputs = MakeOutputs

    def run(self, props: MakeProperties, ctx: RunContext) -> MakeOutputs:
        with open(props.path, "a", encoding="utf-8") as file:
            file.write("ran\n")
        target = ctx.working_dir() / "made.txt"
        target.write_text(props.text, "utf-8")
        return MakeOutputs(uri=ctx.storage.put_file(target))


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine that also knows this module's test tasks (``test.Flaky``, ``test.Make``)."""
    engine = make_engine(tmp_path / "home", Flaky, Make)
    yield engine
    engine.close()


CACHED = """\
    id: cached
    namespace: dev
    inputs:
      - id: text
        type: STRING
        defaults: hello
    tasks:
      - id: make
        type: test.Make
        path: {count}
        text: "{{{{ inputs.text }}}}"
        taskCache:
          enabled: true
          ttl: {ttl}
      - id: use
        type: plait.core.Return
        format: "{{{{ read(outputs.make.uri) }}}}"
    """


def test_task_cache_reuses_outputs_of_a_run_with_the_same_rendered_properties(
    own_engine: Engine, tmp_path: Path
) -> None:
    # kestra.io/docs/workflow-components/task-cache; Worker.hashTask (the key is a hash of
    # the rendered task) and its cache lookup: a hit ends the task SUCCESS with the cached
    # outputs, without running it.
    count = tmp_path / "count.txt"
    flow = CACHED.format(count=count, ttl="PT1H")
    first = run_text(own_engine, flow)
    second = run_text(own_engine, flow)
    assert (first.state, second.state) == (State.SUCCESS, State.SUCCESS)
    assert count.read_text().count("ran") == 1
    [made] = runs_of(second, "make")
    # The file is the second execution's own copy, readable downstream.
    assert f"/executions/{second.id}/" in made.outputs["uri"]
    assert runs_of(second, "use")[0].outputs == {"value": "hello"}
    logs = [e.message for e in own_engine.repository.logs(second.id)]
    assert f"outputs reused from the task cache (execution {first.id})" in logs
    # Other rendered properties (another input): the task runs again.
    third = run_text(own_engine, flow, {"text": "bye"})
    assert count.read_text().count("ran") == 2
    assert runs_of(third, "use")[0].outputs == {"value": "bye"}


def test_task_cache_older_than_the_ttl_is_not_reused(own_engine: Engine, tmp_path: Path) -> None:
    # The ttl is checked against the cached entry's age when it is read (Worker getCacheFile).
    count = tmp_path / "count.txt"
    flow = CACHED.format(count=count, ttl="PT0S")
    run_text(own_engine, flow)
    run_text(own_engine, flow)
    assert count.read_text().count("ran") == 2


def test_task_cache_disabled_runs_every_time(own_engine: Engine, tmp_path: Path) -> None:
    count = tmp_path / "count.txt"
    flow = CACHED.format(count=count, ttl="PT1H").replace("enabled: true", "enabled: false")
    run_text(own_engine, flow)
    run_text(own_engine, flow)
    assert count.read_text().count("ran") == 2


def test_task_cache_keys_loop_iterations_by_their_value(own_engine: Engine, tmp_path: Path) -> None:
    # Worker: the cache entry is looked up by the hash and the task run's value.
    count = tmp_path / "count.txt"
    flow = f"""\
        id: loop
        namespace: dev
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["a", "b"]
            tasks:
              - id: make
                type: test.Make
                path: {count}
                text: same
                taskCache: {{enabled: true}}
        """
    run_text(own_engine, flow)
    assert count.read_text().count("ran") == 2
    run_text(own_engine, flow)
    assert count.read_text().count("ran") == 2


@pytest.mark.parametrize(
    ("cache", "message"),
    [
        ("{enabled: yes}", "flow.yml:6:26: task 'r': taskCache 'enabled' must be true or false"),
        ("{ttl: PT1H}", "flow.yml:6:16: task 'r': taskCache 'enabled' must be true or false"),
        (
            "{enabled: true, ttl: 1h}",
            "flow.yml:6:37: task 'r': taskCache 'ttl' must be an ISO-8601 duration such as PT1H",
        ),
        ("{enabled: true, size: 3}", "flow.yml:6:32: unknown taskCache property 'size'"),
    ],
)
def test_task_cache_is_checked(cache: str, message: str) -> None:
    [problem] = problems(
        f"""\
        id: c
        namespace: dev
        tasks:
          - id: r
            type: plait.core.Return
            taskCache: {cache}
        """
    )
    assert problem.startswith(message)


# -- input prefill -----------------------------------------------------------------------------


PREFILL = """\
    id: prefill
    namespace: dev
    inputs:
      - id: note
        type: STRING
        prefill: "This is a prefilled value you can remove"
        required: false
      - id: count
        type: INT
        prefill: 3
        required: false
    tasks:
      - id: r
        type: plait.core.Return
        format: "[{{ inputs.note ?? 'null' }}] [{{ inputs.count ?? 'null' }}]"
    """


def test_prefill_is_accepted_and_not_used_as_a_default(engine: Engine) -> None:
    # Kestra docs, migration guide 1.1.0 "New prefill property for inputs": a prefill is an
    # editable suggestion; unlike defaults it does not stand for a missing value.
    flow = engine.load(dedent(PREFILL))
    assert flow.input("note").prefill == "This is a prefilled value you can remove"
    assert flow.input("note").defaults is None
    done = engine.run(flow)
    assert runs_of(done, "r")[0].outputs == {"value": "[null] [null]"}
    given = engine.run(flow, {"note": "mine", "count": "4"})
    assert runs_of(given, "r")[0].outputs == {"value": "[mine] [4]"}


def test_prefill_and_defaults_cannot_be_used_together() -> None:
    # Same page: "prefill and defaults cannot be used on the same input".
    source = PREFILL.replace("        required: false\n", '        defaults: "x"\n', 1)
    assert problems(source) == [
        "flow.yml:6:5: input 'note': 'prefill' and 'defaults' cannot both be set: 'defaults' is "
        "used when no value is given, 'prefill' only suggests one"
    ]


def test_a_prefill_must_fit_the_inputs_type() -> None:
    assert problems(PREFILL.replace("prefill: 3", "prefill: three")) == [
        "flow.yml:10:14: input 'count': invalid 'prefill': expected INT, got 'three'"
    ]


# -- system labels, STRING outputs -------------------------------------------------------------


def test_a_flow_cannot_declare_system_labels_but_read_only() -> None:
    # FlowValidator: "System labels can only be set by Kestra itself" (system.readOnly aside).
    assert problems(
        """\
        id: sys
        namespace: dev
        labels:
          system.correlationId: mine
          system.readOnly: "true"
          team: data
        tasks:
          - id: r
            type: plait.core.Return
        """
    ) == [
        "flow.yml:4:25: label 'system.correlationId': system labels are set by the engine, "
        "not a flow"
    ]


def test_a_string_flow_output_may_hold_a_map(engine: Engine) -> None:
    # FlowInputOutput.parseType: a STRING output written as a map keeps the map; written as an
    # expression, it holds the text the expression prints (FlowOutputTest, flow-with-outputs).
    done = run_text(
        engine,
        """\
        id: outs
        namespace: dev
        tasks:
          - id: r
            type: plait.core.Return
            format: x
        outputs:
          - id: summary
            type: STRING
            value:
              task: "{{ outputs.r.value }}"
              count: 2
          - id: text
            type: STRING
            value: "{{ outputs.r.value }}"
          - id: key
            type: STRING
            value: "{{ outputs.r }}"
        """,
    )
    assert done.state is State.SUCCESS
    assert done.outputs == {
        "summary": {"task": "x", "count": 2},
        "text": "x",
        "key": '{"value":"x"}',
    }
