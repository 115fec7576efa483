// `outputs.<task id>.<output>` inside `{{ }}`: what to complete at the cursor and which
// references are wrong, from the tasks written before and their types' outputs. The same rules
// as the server's check (plait.flows.validate), so a flag here is a problem there too: a
// reference guarded by `??`, `default` or `is defined` is left alone, and the outputs of a task
// inside a loop are keyed by loop value (`outputs.child[taskrun.value].name`).

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

/** Every `outputs...` reference in `text`: {from, to, id, output, keyed, guarded}. */
export function outputReferences(text) {
  const found = [];
  const tags = /\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g;
  for (let tag; (tag = tags.exec(text)); ) {
    const body = tag[1] ?? tag[2];
    const bodyFrom = tag.index + 2;
    const guarded = GUARDS.test(body);
    const refs = /(?<![\w.\]])outputs\b/g;
    for (let ref; (ref = refs.exec(body)); ) {
      const first = accessor(body, ref.index + ref[0].length);
      if (!first || first.kind === "computed") continue;
      const second = accessor(body, first.end);
      const third = second && second.kind !== "name" ? accessor(body, second.end) : null;
      const end = (third || second || first).end;
      found.push({ from: bodyFrom + ref.index, to: bodyFrom + end, id: first.key, second, third, guarded });
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
  for (const ref of outputReferences(text)) {
    if (ref.guarded) continue;
    const message = referenceProblem(ref, tasks, catalog);
    if (message) diagnostics.push({ from: ref.from, to: ref.to, severity: "error", message, source: "outputs" });
  }
  return diagnostics;
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
      // A hyphen would read as a minus: such ids are written outputs['my-id'].
      replace: /^[A-Za-z_]\w*$/.test(task.id) ? null : { from: from - 1, insert: `['${task.id}']` },
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
