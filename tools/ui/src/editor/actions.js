// Save and Run, through the REST API. Nothing the user wrote is ever lost: on any error the
// text stays in the editor and the problems are shown where they are.

import { parse, scalarAt } from "./yaml.js";
import { serverProblems } from "./diagnostics.js";

/** The page's URL template with the flow's namespace, id (and execution id) filled in. */
export function fillUrl(data, template, namespace, flowId, executionId = "") {
  const { placeholders } = data;
  return template
    .replace(placeholders.namespace, encodeURIComponent(namespace))
    .replace(placeholders.flowId, encodeURIComponent(flowId))
    .replace(placeholders.executionId, encodeURIComponent(executionId));
}

async function send(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({ message: `HTTP ${response.status}` }));
  return { ok: response.ok, body };
}

/** The namespace and id written in `text` (null where missing). */
function flowKey(text) {
  const root = parse(text);
  return [scalarAt(root, "namespace"), scalarAt(root, "id")];
}

/** Why `text` cannot be stored as a revision of the flow being edited, or null: a flow's
 * namespace and id never change (the server refuses it too; saying it here spares a failing
 * request). */
function renamed(flow, text) {
  const [namespace, id] = flowKey(text);
  if (!flow || (namespace === flow.namespace && id === flow.id)) return null;
  return `this editor saves flow '${flow.namespace}.${flow.id}': its namespace and id cannot change (create a new flow for '${namespace}.${id}')`;
}

/** Why `text` cannot be stored as a new flow, or null: a flow by that namespace and id
 * exists (POST would quietly make the text its next revision). */
async function taken(data, text) {
  const [namespace, id] = flowKey(text);
  if (!namespace || !id) return null; // the validation has said what is missing
  const { ok, body } = await send(`${data.api}/flows/${encodeURIComponent(namespace)}`, {});
  if (!ok || !Array.isArray(body) || !body.some((stored) => stored.id === id)) return null;
  return `a flow '${namespace}.${id}' exists already: give this one another id, or change that one from its Edit tab`;
}

/**
 * Store `text` as a new revision: PUT on the flow being edited, POST for a new flow.
 * Returns {flow} (the stored flow document, with its `revision`) or {error, problems}.
 * The flow is validated first: the server would refuse an invalid flow anyway, and the
 * validate endpoint reports problems without a failing request.
 */
export async function saveFlow(data, text) {
  const flow = data.flow;
  const refusal = renamed(flow, text);
  if (refusal) return { error: refusal, problems: [] };
  try {
    const problems = await serverProblems(data.api, text);
    if (problems.length) {
      return { error: `the flow has ${problems.length} problem${problems.length > 1 ? "s" : ""}`, problems };
    }
    const refused = flow ? null : await taken(data, text);
    if (refused) return { error: refused, problems: [] };
  } catch (error) {
    return { error: `could not reach the server (${error.message})`, problems: [] };
  }
  const url = flow
    ? `${data.api}/flows/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.id)}`
    : `${data.api}/flows`;
  try {
    const { ok, body } = await send(url, {
      method: flow ? "PUT" : "POST",
      headers: { "Content-Type": "application/x-yaml" },
      body: text,
    });
    return ok ? { flow: body } : { error: body.message, problems: body.problems || [] };
  } catch (error) {
    return { error: `could not reach the server (${error.message})`, problems: [] };
  }
}

/** Whether starting the flow needs values the user must give: a required input without
 * defaults (then the Execute form asks for them). */
export function needsInputs(flow) {
  return (flow.inputs || []).some((input) => input.required !== false && input.defaults == null);
}

/** Start an execution of the stored flow with its default inputs: {execution} or {error}. */
export async function startExecution(data, flow) {
  const url = `${data.api}/executions/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.id)}`;
  try {
    const { ok, body } = await send(url, { method: "POST" });
    return ok ? { execution: body } : { error: body.message, problems: body.problems || [] };
  } catch (error) {
    return { error: `could not reach the server (${error.message})` };
  }
}
