"""Creating an execution: labels (Kestra's system labels included), inputs resolved and stored
(files uploaded, a parent's files adopted), secrets registered for masking; and flow outputs
converted to their declared types."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from plait.errors import FlowValidationError, PlaitError, Problem, StorageError
from plait.executor.masking import SecretMasker
from plait.expressions.text import to_text
from plait.flows import Flow, InputDef, resolve_inputs
from plait.flows.input_types import InputValueError, coerce
from plait.state.model import Execution
from plait.storage import uris

if TYPE_CHECKING:
    from plait.executor.services import EngineServices


SYSTEM_PREFIX = "system."
"""Labels the engine sets (Kestra's ``system.*``); a flow cannot declare them."""
CORRELATION_ID = SYSTEM_PREFIX + "correlationId"
"""Shared by an execution and every subflow execution it starts, at any depth: a root
execution's is its own id."""


def execution_labels(
    flow: Flow,
    execution_id: str,
    parent: Execution | None,
    given: Mapping[str, str],
    *,
    inherit: bool,
) -> dict[str, str]:
    """An execution's labels, as Kestra gives them: the flow's own (never a system one), then
    the parent's (all of them with ``inherit``, else only its system labels), then ``given``
    (a Subflow task's ``labels``, an API request's); the first one of a key wins. A
    ``system.correlationId`` comes along from the parent, or is the execution's id."""
    labels = {k: v for k, v in flow.labels.items() if not k.startswith(SYSTEM_PREFIX)}
    inherited = dict(parent.labels) if parent is not None else {}
    if not inherit:
        inherited = {k: v for k, v in inherited.items() if k.startswith(SYSTEM_PREFIX)}
    for source in (inherited, given):
        for key, value in source.items():
            labels.setdefault(key, value)
    labels.setdefault(CORRELATION_ID, execution_id)
    return labels


ENV_PREFIX_SETTING = "PLAIT_ENV_VARS_PREFIX"
DEFAULT_ENV_PREFIX = "KESTRA_"
"""Kestra's default ``kestra.variables.env-vars-prefix`` (RunContextCache)."""


def env_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """``{{ envs.* }}``: the environment variables named ``KESTRA_<NAME>`` (another prefix with
    ``PLAIT_ENV_VARS_PREFIX``), as ``envs.<name>`` in lower case, as Kestra exposes them; no
    other variable of the engine's environment."""
    prefix = environ.get(ENV_PREFIX_SETTING) or DEFAULT_ENV_PREFIX
    return {
        name.removeprefix(prefix).lower(): value
        for name, value in environ.items()
        if name.startswith(prefix) and len(name) > len(prefix)
    }


def label_variables(labels: Mapping[str, str]) -> dict[str, Any]:
    """``{{ labels.* }}``: a system label reads as ``labels.system.correlationId``."""
    variables: dict[str, Any] = {}
    system: dict[str, str] = {}
    for key, value in labels.items():
        if key.startswith(SYSTEM_PREFIX):
            system[key.removeprefix(SYSTEM_PREFIX)] = value
        else:
            variables[key] = value
    if system:
        variables["system"] = system
    return variables


def typed_output(output_id: str, type_name: str, value: Any, written: Any = None) -> Any:
    """A flow output (``written`` in the flow, ``value`` once rendered) converted to its declared
    type (as inputs are), or a PlaitError naming the output and the type; FILE outputs must be
    storage URIs. A STRING output takes any value: written as an expression it holds the text
    the expression prints (a map's JSON, FlowOutputTest), written as a map it keeps the map
    (FlowInputOutput.parseType), as in Kestra."""
    if type_name == "STRING" and not isinstance(value, str):
        return to_text(value) if isinstance(written, str) and value is not None else value
    if type_name == "FILE":
        if not (isinstance(value, str) and value.startswith(f"{uris.SCHEME}://")):
            raise PlaitError(f"flow output '{output_id}': expected FILE (a plait:// URI)")
        return value
    try:
        return coerce(InputDef(id=output_id, type=type_name), value)
    except InputValueError as exc:
        raise PlaitError(f"flow output '{output_id}': {exc}") from None


def json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _adopt_file_inputs(
    engine: EngineServices,
    flow: Flow,
    execution: Execution,
    parent: Execution | None,
    resolved: dict[str, Any],
) -> None:
    """FILE inputs given as storage URIs: a parent execution's file is copied into this
    execution (a subflow can only read its own files); any other execution's is refused."""
    problems = []
    for definition in flow.inputs:
        value = resolved.get(definition.id)
        if definition.type != "FILE" or not uris.is_uri(value):
            continue
        own = uris.execution_prefix(flow.namespace, flow.id, execution.id)
        if uris.is_under(uris.to_key(value), own):
            continue  # a local file, just uploaded
        if parent is None:
            problems.append(
                Problem(
                    f"input '{definition.id}': {value} belongs to another execution; "
                    "give a local file path",
                    file=flow.file,
                    line=definition.line,
                    column=definition.column,
                )
            )
            continue
        try:
            key = uris.key_in_execution(value, parent.namespace, parent.flow_id, parent.id)
        except StorageError as exc:
            problems.append(Problem(f"input '{definition.id}': {exc}", file=flow.file))
            continue
        name = key.rsplit("/", 1)[-1]
        target = uris.input_key(flow.namespace, flow.id, execution.id, definition.id, name)
        with engine.storage.open(value) as stream:
            resolved[definition.id] = engine.storage.put_stream(target, stream)
    if problems:
        raise FlowValidationError(problems)


def new_execution(
    engine: EngineServices,
    flow: Flow,
    inputs: Mapping[str, Any],
    *,
    parent: Execution | None,
    masker: SecretMasker,
    labels: Mapping[str, str] | None = None,
    inherit_labels: bool = False,
) -> tuple[Execution, dict[str, Any]]:
    """Store the flow's revision, resolve inputs and create the execution (inputs masked);
    returns it with the inputs as tasks see them. Raises FlowValidationError before anything
    runs."""
    revision = engine.repository.save_flow(flow.namespace, flow.id, flow.source)
    execution = Execution.new(
        flow.namespace,
        flow.id,
        revision,
        {},
        {},
        parent_id=parent.id if parent else None,
    )
    execution.labels = execution_labels(
        flow, execution.id, parent, labels or {}, inherit=inherit_labels
    )

    def store_file(input_id: str, path: Any) -> str:
        key = uris.input_key(flow.namespace, flow.id, execution.id, input_id, path.name)
        return engine.storage.put_path(key, path)

    resolved = resolve_inputs(flow, inputs, store_file=store_file)
    _adopt_file_inputs(engine, flow, execution, parent, resolved)
    secret_ids = {i.id for i in flow.inputs if i.type.upper() == "SECRET"}
    for input_id in secret_ids:
        if isinstance(resolved.get(input_id), str):
            masker.add(resolved[input_id])
    execution.inputs = masker.mask_value(json_safe(resolved))
    return execution, resolved
