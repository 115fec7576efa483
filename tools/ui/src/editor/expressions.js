// Inside `{{ }}` and `{% %}`: what to complete at the cursor (the variables an expression sees,
// their fields, the flow's inputs and variables, `outputs.<task id>.<output>` from the tasks
// written before and their types' outputs, the functions) and which references are wrong. For
// `outputs.` the same rules as the server's check (plait.flows.validate), so a flag here is a
// problem there too; `inputs.` names an input the flow declares (the server does not check it
// before the run). A reference guarded by `??`, `default` or `is defined` is left alone, and
// the outputs of a task inside a loop are keyed by loop value (`outputs.child[taskrun.value].name`).

import { inTask, tasksBefore } from "./flow.js";

const GUARDS = /\?\?|\bdefault\b|\bis\s+(?:not\s+)?(?:defined|undefined)\b/;
const NAME = /^[A-Za-z_][\w]*/;

/** The open `{{` (or `{%`) before `pos` that is not closed before it: its offset, or -1. */
export function openExpression(text, pos) {
  const window = text.slice(Math.max(0, pos - 4000), pos);
  const open = Math.max(window.lastIndexOf("{{"), window.lastIndexOf("{%"));
  if (open < 0) return -1;
  const tail = window.slice(open + 2);
  if (tail.includes("}}") || tail.includes("%}")) return -1;
  return pos - window.length + open;
}

/** One accessor after a name: `.name`, `['key']` or `[expression]`; null when none. */
function accessor(text, at) {
  if (text[at] === ".") {
    const name = NAME.exec(text.slice(at + 1));
    return name ? { kind: "name", key: name[0], end: at + 1 + name[0].length } : null;
  }
  if (text[at] === "[") {
    const close = text.indexOf("]", at);
    if (close < 0) return null;
    const inside = text.slice(at + 1, close).trim();
    const quoted = /^(['"])(.*)\1$/.exec(inside);
    return quoted
      ? { kind: "key", key: quoted[2], end: close + 1 }
      : { kind: "computed", key: null, end: close + 1 };
  }
  return null;
}

/**
 * Every reference to the variable `name` (`outputs`, `inputs`) in `text`: {from, to, idTo, id,
 * second, third, guarded}, `to` after up to three accessors, `idTo` after the first.
 */
export function references(text, name) {
  const found = [];
  const tags = /\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g;
  for (let tag; (tag = tags.exec(text)); ) {
    const body = tag[1] ?? tag[2];
    const bodyFrom = tag.index + 2;
    const guarded = GUARDS.test(body);
    const refs = new RegExp(`(?<![\\w.\\]])${name}\\b`, "g");
    for (let ref; (ref = refs.exec(body)); ) {
      const first = accessor(body, ref.index + ref[0].length);
      if (!first || first.kind === "computed") continue;
      const second = accessor(body, first.end);
      const third = second && second.kind !== "name" ? accessor(body, second.end) : null;
      const end = (third || second || first).end;
      const from = bodyFrom + ref.index;
      found.push({ from, to: bodyFrom + end, idTo: bodyFrom + first.end, id: first.key, second, third, guarded });
    }
  }
  return found;
}

function outputsOf(catalog, task) {
  const info = task && task.type ? catalog.taskTypes[task.type] : null;
  return info ? info.outputs : null;
}

/** What is wrong with one reference (a message), or null. */
function referenceProblem(ref, tasks, catalog) {
  const named = tasks.find((task) => task.id === ref.id);
  const allowed = inTask(tasks, ref.from) ? tasksBefore(tasks, ref.from) : tasks;
  const expression = `outputs.${ref.id}`;
  if (!named) {
    const known = allowed.map((t) => `'${t.id}'`).join(", ") || "none";
    return `${expression}: there is no task '${ref.id}' before this point (tasks before it: ${known})`;
  }
  if (!allowed.includes(named)) {
    return `${expression}: task '${ref.id}' does not run before this point; a task can only read the outputs of tasks written before it`;
  }
  const outputs = outputsOf(catalog, named);
  if (!outputs || !ref.second || ref.second.kind === "computed") return null;
  const names = outputs.map((o) => o.name);
  const list = names.map((n) => `'${n}'`).join(", ") || "none";
  if (named.loop) {
    if (ref.second.kind === "name" && names.includes(ref.second.key)) {
      return `${expression}.${ref.second.key}: task '${ref.id}' runs inside the loop '${named.loop}', so its outputs are keyed by loop value: write outputs.${ref.id}[taskrun.value].${ref.second.key}`;
    }
    const output = ref.third && ref.third.kind !== "computed" ? ref.third.key : null;
    if (output === null || names.includes(output)) return null;
    return `${expression}[…].${output}: task '${ref.id}' (${named.type}) has no output '${output}' (its outputs: ${list})`;
  }
  if (names.includes(ref.second.key)) return null;
  return `${expression}.${ref.second.key}: task '${ref.id}' (${named.type}) has no output '${ref.second.key}' (its outputs: ${list})`;
}

/** Diagnostics ({from, to, severity, message}) for the wrong output references of `text`. */
export function lintOutputs(text, tasks, catalog) {
  const diagnostics = [];
  for (const ref of references(text, "outputs")) {
    if (ref.guarded) continue;
    const message = referenceProblem(ref, tasks, catalog);
    if (message) diagnostics.push({ from: ref.from, to: ref.to, severity: "error", message, source: "outputs" });
  }
  return diagnostics;
}

/** Diagnostics for `inputs.<id>` naming an input the flow does not declare (`inputs`). */
export function lintInputs(text, inputs) {
  const ids = inputs.map((input) => input.id);
  const known = ids.map((id) => `'${id}'`).join(", ") || "none";
  return references(text, "inputs")
    .filter((ref) => !ref.guarded && !ids.includes(ref.id))
    .map((ref) => ({
      from: ref.from,
      to: ref.idTo,
      severity: "error",
      source: "inputs",
      message: `inputs.${ref.id}: the flow declares no input '${ref.id}' (its inputs: ${known})`,
    }));
}

/** How to write a key that is not a name (a hyphen would read as a minus): `x['my-id']`
 * replacing the dot before `from`; null for a name, written after the dot. */
function keyAccess(key, from) {
  return /^[A-Za-z_]\w*$/.test(key) ? null : { from: from - 1, insert: `['${key}']` };
}

/**
 * What to complete at `pos` inside an expression: `{from, options: [{label, detail, info,
 * replace}]}` for `outputs.<id>` (tasks before the cursor) and `outputs.<id>.<output>` (that
 * task's outputs), or null.
 */
export function outputCompletions(text, pos, tasks, catalog) {
  const open = openExpression(text, pos);
  if (open < 0) return null;
  const before = text.slice(open + 2, pos);
  const allowed = inTask(tasks, pos) ? tasksBefore(tasks, pos) : tasks;
  const idTyped = /(?<![\w.\]])outputs\.([\w-]*)$/.exec(before);
  if (idTyped) {
    const from = pos - idTyped[1].length;
    const options = allowed.map((task) => ({
      label: task.id,
      detail: task.type || "",
      info: task.loop ? `Runs inside the loop '${task.loop}': read its outputs as outputs.${task.id}[taskrun.value].<name>.` : "",
      replace: keyAccess(task.id, from),
    }));
    return { from, options };
  }
  const outputTyped = /(?<![\w.\]])outputs(?:\.([A-Za-z_]\w*)|\[\s*['"]([\w-]+)['"]\s*\])(\[[^\]]*\])?\.(\w*)$/.exec(before);
  if (outputTyped) {
    const id = outputTyped[1] || outputTyped[2];
    const task = allowed.find((t) => t.id === id);
    const outputs = outputsOf(catalog, task);
    // Inside a loop the name after the id is a loop value, not an output.
    if (!outputs || (task.loop && !outputTyped[3])) return null;
    const from = pos - outputTyped[4].length;
    return { from, options: outputs.map((o) => ({ label: o.name, detail: `output of ${task.type}`, info: o.description })) };
  }
  return null;
}

/** The variables every expression sees (plait.executor.runner: base_variables, and
 * variables.run_variables for the running task) and the fields of the fixed ones. */
const VARIABLES = {
  inputs: { info: "The execution's inputs, as the flow declares them under inputs." },
  outputs: { info: "The outputs of the tasks run before: outputs.<task id>.<name>." },
  vars: { info: "The flow's variables." },
  flow: { info: "The flow being run.", fields: ["id", "namespace", "revision"] },
  execution: {
    info: "The execution; originalId is the first one of a replay.",
    fields: ["id", "startDate", "originalId", "state"],
  },
  task: { info: "The running task.", fields: ["id", "type"] },
  taskrun: {
    info: "The running task run; value is the loop value inside a loop.",
    fields: ["id", "startDate", "attemptsCount", "value", "parentId"],
  },
  parent: { info: "The closest enclosing task run with a value or outputs (inside a loop).", fields: ["taskrun", "outputs"] },
  parents: { info: "Every enclosing task run with a value or outputs, innermost first." },
  labels: { info: "The execution's labels, by key." },
  envs: { info: "The environment variables named KESTRA_<NAME>, as envs.<name>." },
  trigger: { info: "The variables of the trigger that started the execution." },
};

/** The options after `name.`: the flow's inputs or variables, a fixed variable's fields. */
function members(name, from, flow) {
  if (name === "inputs") {
    return flow.inputs.map((input) => ({
      label: input.id,
      detail: input.type || "",
      info: input.description || "",
      replace: keyAccess(input.id, from),
    }));
  }
  if (name === "vars") return flow.variables.map((key) => ({ label: key, detail: "variable", replace: keyAccess(key, from) }));
  const fields = (VARIABLES[name] && VARIABLES[name].fields) || [];
  return fields.map((field) => ({ label: field, detail: `${name}.${field}` }));
}

/**
 * What to complete at `pos` inside an expression besides `outputs.`: a variable's members
 * (`inputs.`, `vars.`, `flow.`...) or, on a word (any position when `explicit`), the variables
 * and the functions of `catalog.functions`. `{from, options}` as outputCompletions, or null.
 */
export function variableCompletions(text, pos, flow, catalog, explicit = false) {
  const open = openExpression(text, pos);
  if (open < 0) return null;
  const before = text.slice(open + 2, pos);
  const member = /(?<![\w.\]])([A-Za-z_]\w*)\.(\w*)$/.exec(before);
  if (member) {
    const from = pos - member[2].length;
    const options = members(member[1], from, flow);
    return options.length ? { from, options } : null;
  }
  const word = /[A-Za-z_]\w*$|$/.exec(before)[0];
  const lead = before.slice(0, before.length - word.length);
  // after a filter's bar, a test's `is`, a dot or inside a name: not a variable
  if ((!word && !explicit) || /[\w.\]'"]$|\|\s*$|\bis\s+(?:not\s+)?$/.test(lead)) return null;
  const variables = Object.entries(VARIABLES).map(([name, { info }]) => ({ label: name, detail: "variable", info }));
  const functions = (catalog.functions || []).map((fn) => ({
    label: fn.name,
    type: "function",
    detail: fn.usage,
    info: fn.description,
    apply: `${fn.name}(`,
  }));
  return { from: pos - word.length, options: [...variables, ...functions] };
}
