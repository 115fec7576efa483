// Unit tests of the editor's pure modules (YAML path at the cursor, schema reading, expression
// completion, outputs and inputs lint), run by tests/test_ui_editor.py with `node --test`, which passes the
// real flow schema and editor catalog of the installed plugins (PLAIT_FLOW_SCHEMA,
// PLAIT_EDITOR_CATALOG: JSON files) and the flows the editor must find nothing wrong in
// (PLAIT_CLEAN_FLOWS: paths separated by newlines).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { cursorContext, parse } from "../src/editor/yaml.js";
import { keysOf, layersAt, valuesOf } from "../src/editor/schema.js";
import { readFlow } from "../src/editor/flow.js";
import { lintInputs, lintOutputs, outputCompletions, variableCompletions } from "../src/editor/expressions.js";
import { localDiagnostics } from "../src/editor/diagnostics.js";

const schema = JSON.parse(readFileSync(process.env.PLAIT_FLOW_SCHEMA, "utf8"));
const catalog = JSON.parse(readFileSync(process.env.PLAIT_EDITOR_CATALOG, "utf8"));

const FLOW = `id: demo
namespace: ui.test
tasks:
  - id: fetch
    type: plait.http.Request
    uri: https://example.com
  - id: each
    type: plait.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: plait.core.Return
        format: "{{ taskrun.value }}"
  - id: last
    type: plait.core.Log
    message: "{{ outputs.fetch.code }}"
outputs:
  - id: result
    type: STRING
    value: "{{ outputs.last }}"
`;

/** The cursor context at the `|` of `marked` (which is removed). */
function at(marked) {
  const pos = marked.indexOf("|");
  return { text: marked.slice(0, pos) + marked.slice(pos + 1), pos };
}

function keysAt(marked) {
  const { text, pos } = at(marked);
  const where = cursorContext(text, pos);
  assert.equal(where.kind, "key");
  return keysOf(layersAt(schema, where.root, where.path).layers).keys;
}

test("a key being typed in a task gets that task type's properties, required marked", () => {
  const keys = keysAt(FLOW.replace("    uri: https", "    me|\n    uri: https"));
  assert.ok(keys.has("method") && keys.has("uri") && keys.has("retry"));
  assert.equal(keys.get("uri").required, true);
  assert.equal(keys.get("method").required, false);
  assert.ok(!keys.has("message"), "a Log property is not offered in a Request");
});

test("an empty line's indentation decides the map: a nested task, the flow", () => {
  const nested = keysAt(FLOW.replace('format: "{{ taskrun.value }}"\n', 'format: "{{ taskrun.value }}"\n        |\n'));
  assert.ok(nested.has("format") && !nested.has("values"), "keys of the nested Return");
  const flow = keysAt(FLOW.replace("tasks:\n  - id: fetch", "|\ntasks:\n  - id: fetch"));
  for (const key of ["inputs", "labels", "triggers", "errors", "pluginDefaults"]) assert.ok(flow.has(key), key);
  assert.equal(flow.get("namespace").required, true);
});

test("the value of a task's type completes task types with their descriptions", () => {
  const { text, pos } = at(FLOW.replace("type: plait.core.Log", "type: plait.co|"));
  const where = cursorContext(text, pos);
  assert.deepEqual([where.kind, where.word, where.path], ["value", "plait.co", ["tasks", 2, "type"]]);
  const values = valuesOf(layersAt(schema, where.root, where.path).layers);
  const log = values.find((v) => v.value === "plait.core.Log");
  assert.match(log.info, /log/i);
  assert.ok(values.some((v) => v.value === "io.kestra.plugin.core.flow.ForEach"), "aliases too");
});

test("tasks are found in flowables' lists, loop children marked", () => {
  const { tasks } = readFlow(schema, parse(FLOW), catalog);
  assert.deepEqual(
    tasks.map((t) => [t.id, t.type, t.loop]),
    [
      ["fetch", "plait.http.Request", null],
      ["each", "plait.core.flow.ForEach", null],
      ["inner", "plait.core.Return", "each"],
      ["last", "plait.core.Log", null],
    ],
  );
});

test("outputs. completes the tasks before the cursor, then their type's outputs", () => {
  const { text, pos } = at(FLOW.replace('"{{ outputs.fetch.code }}"', '"{{ outputs.|'));
  const { tasks } = readFlow(schema, parse(text), catalog);
  const ids = outputCompletions(text, pos, tasks, catalog).options.map((o) => o.label);
  assert.deepEqual(ids, ["fetch", "each", "inner"]);
  const after = at(FLOW.replace('"{{ outputs.fetch.code }}"', '"{{ outputs.fetch.|'));
  const names = outputCompletions(after.text, after.pos, tasks, catalog).options.map((o) => o.label);
  assert.deepEqual(names, ["uri", "code", "headers", "body"]);
  const loop = at(FLOW.replace('"{{ outputs.fetch.code }}"', '"{{ outputs.inner[taskrun.value].|'));
  assert.deepEqual(outputCompletions(loop.text, loop.pos, tasks, catalog).options.map((o) => o.label), ["value"]);
  const outside = at(FLOW.replace('message: "{{', 'message: "{ outputs.|'));
  assert.equal(outputCompletions(outside.text, outside.pos, tasks, catalog), null);
});

test("a hyphenated task id is completed as outputs['my-id']", () => {
  const text = FLOW.replace("id: fetch", "id: my-fetch").replace("{{ outputs.fetch.code }}", "{{ outputs.");
  const pos = text.indexOf("{{ outputs.") + "{{ outputs.".length;
  const option = outputCompletions(text, pos, readFlow(schema, parse(text), catalog).tasks, catalog).options[0];
  assert.deepEqual(option.replace, { from: pos - 1, insert: "['my-fetch']" });
});

test("wrong outputs references are flagged, guarded and loop-keyed ones are not", () => {
  const lint = (message) => {
    const text = FLOW.replace("{{ outputs.fetch.code }}", message);
    return lintOutputs(text, readFlow(schema, parse(text), catalog).tasks, catalog).map((d) => d.message);
  };
  assert.deepEqual(lint("{{ outputs.fetch.code }}"), []);
  assert.match(lint("{{ outputs.fetch.cod }}")[0], /has no output 'cod'.*'code'/);
  assert.match(lint("{{ outputs.nope.x }}")[0], /no task 'nope' before this point/);
  assert.match(lint("{{ outputs.last.x }}")[0], /task 'last' does not run before this point/);
  assert.match(lint("{{ outputs.inner.value }}")[0], /keyed by loop value/);
  assert.deepEqual(lint("{{ outputs.inner['a'].value }} {{ outputs.inner.a.value }}"), []);
  assert.match(lint("{{ outputs.inner['a'].valeu }}")[0], /has no output 'valeu'/);
  assert.deepEqual(lint("{{ outputs.fetch.cod ?? 'x' }} {{ outputs.nope | default('') }}"), []);
  const flagged = lintOutputs(FLOW.replace("fetch.code", "fetch.cod"), readFlow(schema, parse(FLOW), catalog).tasks, catalog)[0];
  assert.equal(FLOW.replace("fetch.code", "fetch.cod").slice(flagged.from, flagged.to), "outputs.fetch.cod");
});

test("unknown task properties are flagged with a suggestion", () => {
  const text = FLOW.replace("    uri: https", "    methd: GET\n    uri: https");
  const [problem] = localDiagnostics(text, schema, catalog);
  assert.match(problem.message, /unknown property 'methd'; did you mean 'method'\?/);
  assert.equal(text.slice(problem.from, problem.to), "methd");
});

test("half-written text still reads: no colon yet, a dangling dash", () => {
  const { text, pos } = at("id: x\nnamespace: y\ntasks:\n  - id: a\n    ty|\n  -\n");
  const where = cursorContext(text, pos);
  assert.deepEqual([where.kind, where.word, where.path], ["key", "ty", ["tasks", 0]]);
  assert.deepEqual(localDiagnostics("tasks:\n  - id: a\n    type\n  - \n", schema, catalog), []);
});

test("the flows of the examples are clean: nothing flagged where the server finds nothing", () => {
  const files = (process.env.PLAIT_CLEAN_FLOWS || "").split("\n").filter(Boolean);
  assert.ok(files.length >= 3);
  for (const file of files) {
    assert.deepEqual(localDiagnostics(readFileSync(file, "utf8"), schema, catalog), [], file);
  }
});

const DECLARED = FLOW.replace(
  "tasks:\n",
  `inputs:
  - id: city
    type: STRING
    description: Where to look.
  - id: max-rows
    type: INT
variables:
  base: https://example.com
tasks:
`,
);

/** What variableCompletions offers at the `|` of `marked` in DECLARED's Log message. */
function offered(marked, explicit = false) {
  const { text, pos } = at(DECLARED.replace('"{{ outputs.fetch.code }}"', `"${marked}`));
  const found = variableCompletions(text, pos, readFlow(schema, parse(text), catalog), catalog, explicit);
  return found && found.options;
}

test("inside an expression: the variables and functions, then the members of each", () => {
  const top = offered("{{ in|").map((o) => o.label);
  for (const name of ["inputs", "outputs", "vars", "flow", "execution", "taskrun", "parent", "labels", "trigger", "envs"]) {
    assert.ok(top.includes(name), name);
  }
  assert.deepEqual(offered("{% if kv|").find((o) => o.label === "kv").apply, "kv(");
  assert.ok(!top.includes("workingDir") && !top.includes("kestra"), "only what plait provides");
  const inputs = offered("{{ inputs.|");
  assert.deepEqual(inputs.map((o) => [o.label, o.detail]), [["city", "STRING"], ["max-rows", "INT"]]);
  assert.equal(inputs[0].info, "Where to look.");
  assert.deepEqual(inputs[1].replace.insert, "['max-rows']");
  assert.deepEqual(offered("{{ vars.b|").map((o) => o.label), ["base"]);
  assert.deepEqual(offered("{{ flow.|").map((o) => o.label), ["id", "namespace", "revision"]);
  assert.deepEqual(offered("{{ execution.|").map((o) => o.label), ["id", "startDate", "originalId", "state"]);
  assert.ok(offered("{{ taskrun.|").some((o) => o.label === "attemptsCount"));
  assert.equal(offered("{{ 'x' | up|"), null, "a filter is not a variable");
  assert.equal(offered("{{ 3 is od|"), null, "nor is a test");
  assert.equal(offered("{{ |"), null, "an empty word only when asked");
  assert.ok(offered("{{ |", true).length > 10);
  assert.equal(offered("{ inputs.|"), null, "outside an expression");
});

test("an undeclared input is flagged, a declared or guarded one is not", () => {
  const lint = (message) => {
    const text = DECLARED.replace("{{ outputs.fetch.code }}", message);
    return lintInputs(text, readFlow(schema, parse(text), catalog).inputs);
  };
  assert.deepEqual(lint("{{ inputs.city }} {{ inputs['max-rows'] }} {% if inputs.city %}{% endif %}"), []);
  const [problem] = lint("{{ inputs.cty | upper }}");
  assert.match(problem.message, /no input 'cty' \(its inputs: 'city', 'max-rows'\)/);
  const text = DECLARED.replace("{{ outputs.fetch.code }}", "{{ inputs.cty | upper }}");
  assert.equal(text.slice(problem.from, problem.to), "inputs.cty");
  assert.deepEqual(lint("{{ inputs.cty ?? '' }} {{ inputs.other | default('x') }} {{ inputs.x is defined }}"), []);
  assert.deepEqual(lint("{{ trigger.inputs.x }} {{ inputs[taskrun.value] }}"), [], "not the flow's inputs, computed");
  const undeclared = FLOW.replace("{{ outputs.fetch.code }}", "{{ inputs.city }}");
  assert.match(localDiagnostics(undeclared, schema, catalog)[0].message, /its inputs: none/);
});
