// A flow's document read with its schema: its tasks (where each is, its type, the loop it runs
// in), its declared inputs and variables, and the keys its schema does not allow. Tasks are found where the schema says a list
// holds tasks (items `$ref` to the task definition), so flowables' child lists count too.

import { applicable, childSchemas, keysOf } from "./schema.js";
import { get, scalarAt } from "./yaml.js";

/**
 * `{tasks, inputs, variables, unknownKeys}` of the document `root`. Each task: {id, type, from,
 * to, loop} where `loop` is the id of the loop task it runs inside (its outputs are keyed by
 * loop value) or null. Each input: {id, type, description}; `variables`: the names under
 * `variables:`. Each unknown key: {key, from, to, known} (`known`: the keys allowed there).
 */
export function readFlow(schemaRoot, root, catalog) {
  const taskRef = `#/definitions/${catalog.taskDefinition}`;
  const tasks = [];
  const unknownKeys = [];

  function visit(node, layers, loop) {
    if (!node) return;
    if (node.kind === "map") {
      const { keys, closed } = keysOf(layers);
      for (const pair of node.pairs) {
        if (closed && !pair.partial && !keys.has(pair.key)) {
          unknownKeys.push({ key: pair.key, from: pair.keyFrom, to: pair.keyTo, known: [...keys.keys()] });
        }
        visit(pair.value, inner(childSchemas(layers, pair.key), pair.value), loop);
      }
    } else if (node.kind === "seq") {
      node.items.forEach((item, index) => {
        const via = childSchemas(layers, index);
        let itemLoop = loop;
        if (item && item.kind === "map" && via.some((s) => s.$ref === taskRef)) {
          const type = scalarAt(item, "type");
          const id = scalarAt(item, "id");
          if (id) tasks.push({ id, type, from: item.from, to: item.to, loop });
          const info = type && catalog.taskTypes[type];
          if (info && info.loops) itemLoop = id;
        }
        visit(item, inner(via, item), itemLoop);
      });
    }
  }

  function inner(schemas, node) {
    const layers = [];
    for (const schema of schemas) applicable(schemaRoot, schema, node, true, layers);
    return layers;
  }

  visit(root, applicable(schemaRoot, schemaRoot, root), null);
  return { tasks, ...declarations(root), unknownKeys };
}

/** The flow's `inputs` (each with its type and description) and `variables` names. */
function declarations(root) {
  const list = get(root, "inputs");
  const inputs = (list && list.kind === "seq" ? list.items : [])
    .map((item) => ({
      id: scalarAt(item, "id") || scalarAt(item, "name"), // `name`: Kestra's older spelling
      type: scalarAt(item, "type"),
      description: scalarAt(item, "description") || scalarAt(item, "displayName"),
    }))
    .filter((input) => input.id);
  const map = get(root, "variables");
  const variables = map && map.kind === "map" ? map.pairs.filter((p) => !p.partial).map((p) => p.key) : [];
  return { inputs, variables };
}

/** The tasks whose outputs an expression at `pos` may read: those written before it,
 * except the tasks it is inside (a task cannot read its own outputs, nor its parent's). */
export function tasksBefore(tasks, pos) {
  return tasks.filter((task) => task.from < pos && !(task.from <= pos && pos <= task.to));
}

/** Whether `pos` is inside one of the tasks (flow outputs, triggers... are not). */
export function inTask(tasks, pos) {
  return tasks.some((task) => task.from <= pos && pos <= task.to);
}
