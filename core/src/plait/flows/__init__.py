"""Flows: the YAML model, its loading with positions, validation, plugin defaults and inputs.

``check_flow`` is what runs before an execution: it reads the file and reports every problem,
structural or not, at once, each with file, line and column.
"""

from plait.flows.defaults import apply_plugin_defaults, with_plugin_defaults
from plait.flows.input_types import INPUT_TYPES
from plait.flows.inputs import resolve_inputs
from plait.flows.loader import load_flow, parse_flow
from plait.flows.model import Flow, FlowOutputDef, InputDef, PluginDefault, TaskDef
from plait.flows.validate import check_flow, has_expression, validate_flow

__all__ = [
    "INPUT_TYPES",
    "Flow",
    "FlowOutputDef",
    "InputDef",
    "PluginDefault",
    "TaskDef",
    "apply_plugin_defaults",
    "check_flow",
    "has_expression",
    "load_flow",
    "parse_flow",
    "resolve_inputs",
    "validate_flow",
    "with_plugin_defaults",
]
