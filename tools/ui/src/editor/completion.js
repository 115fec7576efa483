// CodeMirror completion sources: keys and values from the flow schema at the cursor's YAML
// path, and variables, their fields, `outputs.` and functions inside expressions.

import { cursorContext, parse } from "./yaml.js";
import { describe, keysOf, layersAt, valuesOf } from "./schema.js";
import { readFlow } from "./flow.js";
import { outputCompletions, variableCompletions } from "./expressions.js";

/** The first line of a markdown text, plain (completion lists have one line of detail). */
function summary(markdown) {
  return (markdown || "").split("\n")[0].replace(/\*\*|`/g, "");
}

/** A DOM node with the text of a markdown description (shown beside the selected option). */
function infoNode(markdown) {
  if (!markdown) return undefined;
  return () => {
    const node = document.createElement("div");
    node.className = "editor-info";
    node.textContent = markdown.replace(/\*\*|`/g, "");
    return node;
  };
}

function keyOptions(schema, context) {
  const { layers } = layersAt(schema, context.root, context.path);
  const { keys } = keysOf(layers);
  const present = new Set(context.map.pairs.map((p) => p.key));
  const options = [];
  for (const [name, { schema: property, required }] of keys) {
    if (present.has(name) && name !== context.word) continue;
    options.push({
      label: name,
      type: "property",
      detail: required ? "required" : summary(describe(property)).slice(0, 60),
      info: infoNode(describe(property)),
      apply: `${name}: `,
      boost: required ? 2 : 0,
    });
  }
  return options;
}

function valueOptions(schema, context) {
  const { layers } = layersAt(schema, context.root, context.path);
  return valuesOf(layers).map(({ value, info }) => ({
    label: value,
    type: context.key === "type" ? "class" : "enum",
    detail: summary(info).slice(0, 80),
    info: infoNode(info),
  }));
}

/** The completion source, reading the schema and catalog from `getData()` when it runs. */
export function flowCompletions(getData) {
  return (context) => {
    const { schema, catalog } = getData();
    if (!schema) return null;
    const text = context.state.doc.toString();
    const pos = context.pos;
    const flow = readFlow(schema, parse(text), catalog);
    const expression =
      outputCompletions(text, pos, flow.tasks, catalog) || variableCompletions(text, pos, flow, catalog, context.explicit);
    if (expression) {
      return {
        from: expression.from,
        options: expression.options.map((o) => ({
          label: o.label,
          type: o.type || "variable",
          detail: o.detail,
          info: infoNode(o.info),
          apply: o.replace
            ? (view, _completion, _from, to) =>
                view.dispatch({ changes: { from: o.replace.from, to, insert: o.replace.insert } })
            : o.apply || o.label,
        })),
        validFor: /^[\w-]*$/,
      };
    }
    const where = cursorContext(text, pos);
    if (!where) return null;
    if (where.kind === "key" && !where.word && !context.explicit && !/^\s*-\s*$/.test(lineBefore(context))) {
      return null; // an empty line: complete only when asked (Ctrl-Space) or after "- "
    }
    const options = where.kind === "key" ? keyOptions(schema, where) : valueOptions(schema, where);
    if (!options.length) return null;
    return { from: where.from, options, validFor: /^[\w.$-]*$/ };
  };
}

function lineBefore(context) {
  const line = context.state.doc.lineAt(context.pos);
  return line.text.slice(0, context.pos - line.from);
}
