"""Task and trigger models are built when a type is first looked up, not when its plugin is
imported (the SDK sets pydantic's ``defer_build``: a run pays only for the types its flow
uses). A type whose model pydantic cannot build is refused there, as its plugin would have been
at import, with a reason naming the type and the model; everything else keeps working."""

from __future__ import annotations

from test_plugin_loading import install_plugin

TWO_TYPES = """
    from plait_sdk import SDK_MAJOR, Task, TaskOutputs, TaskProperties, hookimpl, prop

    PLAIT_SDK_MAJOR = SDK_MAJOR

    class Opaque:
        \"\"\"A type pydantic has no schema for.\"\"\"

    class BrokenProperties(TaskProperties):
        value: Opaque = prop(None, description="Cannot be validated.")

    class Broken(Task[BrokenProperties, TaskOutputs]):
        \"\"\"A task whose properties model cannot be built.\"\"\"

        type = "acme.Broken"
        Properties = BrokenProperties

        def run(self, props, ctx):
            return TaskOutputs()

    class Fine(Task[TaskProperties, TaskOutputs]):
        \"\"\"A task that works.\"\"\"

        type = "acme.Fine"

        def run(self, props, ctx):
            return TaskOutputs()

    @hookimpl
    def register_task_types():
        return [Broken, Fine]
"""


def test_a_model_that_cannot_be_built_fails_where_its_type_is_used(cli, tmp_path, write_flow):
    env = install_plugin(tmp_path / "site", "acme", TWO_TYPES)
    fine = write_flow("id: f\nnamespace: dev\ntasks:\n  - id: a\n    type: acme.Fine\n", "f.yml")
    ran = cli("run", str(fine), env=env)
    assert ran.code == 0, ran.stderr
    broken = write_flow("id: b\nnamespace: dev\ntasks:\n  - id: a\n    type: acme.Broken\n")
    for command in ("validate", "run"):
        done = cli(command, str(broken), env=env)
        assert done.code == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "unknown task type 'acme.Broken'" in done.stderr
        assert "Properties model (BrokenProperties) cannot be built" in done.stderr
        assert "Opaque" in done.stderr
    schema = cli("schema", "flow", env=env)
    assert schema.code == 0, schema.stderr
    assert "acme.Fine" in schema.stdout and "acme.Broken" not in schema.stdout
    checked = cli("plugin", "check", "plait-acme", "--no-run", env=env)
    assert checked.code == 1
    assert any(
        line.startswith("PROBLEM plait-acme: schema: task type 'acme.Broken'")
        and "BrokenProperties" in line
        for line in checked.stdout.splitlines()
    ), checked.stdout
