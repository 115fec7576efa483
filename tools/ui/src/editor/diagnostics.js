// What is wrong with the flow, from two sources: the editor's own checks (unknown keys, wrong
// `outputs.` and `inputs.` references: instant, before anything is sent) and the server's
// validate endpoint (the whole truth: YAML syntax, types, expressions). Where the server reports
// a problem on a line, it replaces the editor's guesses about that line.

import { parse } from "./yaml.js";
import { readFlow } from "./flow.js";
import { lintInputs, lintOutputs } from "./expressions.js";

/** The closest of `names` to `name` (at most two edits away), for "did you mean". */
function closest(name, names) {
  let best = null;
  let bestDistance = 3;
  for (const candidate of names) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function distance(a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The editor's own diagnostics for `text` ({from, to, severity, message, source}). */
export function localDiagnostics(text, schema, catalog) {
  if (!schema) return [];
  const { tasks, inputs, unknownKeys } = readFlow(schema, parse(text), catalog);
  const keys = unknownKeys.map(({ key, from, to, known }) => {
    const guess = closest(key, known);
    const hint = guess ? `; did you mean '${guess}'?` : ` (allowed here: ${known.join(", ")})`;
    return { from, to, severity: "error", source: "schema", message: `unknown property '${key}'${hint}` };
  });
  return [...keys, ...lintOutputs(text, tasks, catalog), ...lintInputs(text, inputs)];
}

/** A server problem ({message, line, column}, 1-based) as a diagnostic over what is there:
 * a whole `{{ }}` tag when it starts one, else the token. */
export function problemDiagnostic(doc, problem) {
  const line = doc.line(Math.min(Math.max(problem.line || 1, 1), doc.lines));
  const from = Math.min(line.from + Math.max((problem.column || 1) - 1, 0), line.to);
  const rest = doc.sliceString(from, line.to);
  const token = /^\{\{.*?\}\}|^\{%.*?%\}|^\S+/.exec(rest);
  const to = token ? from + token[0].length : line.to;
  return { from, to, severity: "error", source: "server", message: problem.message, line: line.number };
}

/** The server's problems for `text`: POST {api}/flows/validate. Throws when unreachable. */
export async function serverProblems(api, text) {
  const response = await fetch(`${api}/flows/validate`, {
    method: "POST",
    headers: { "Content-Type": "application/x-yaml" },
    body: text,
  });
  const body = await response.json();
  if (!response.ok) return body.problems || [{ message: body.message, line: 1, column: 1 }];
  return (Array.isArray(body) ? body : []).flatMap((report) => report.problems || []);
}

/** Server diagnostics first; the editor's own only on lines the server found nothing on. */
export function merge(doc, server, local) {
  const lines = new Set(server.map((d) => d.line));
  return [...server, ...local.filter((d) => !lines.has(doc.lineAt(d.from).number))].sort((a, b) => a.from - b.from);
}
