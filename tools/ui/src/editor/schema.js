// Reading the server's flow JSON Schema along a path of the document: which keys a map may
// have (with their descriptions and required marks), which values a key takes. Only what the
// flow schema uses is understood: $ref, properties, items, additionalProperties, allOf,
// anyOf/oneOf, and if/then/else on `required` and `properties: {k: {const|enum}}` (how each
// task and trigger type's definition is chosen by its `type`).

import { scalarAt } from "./yaml.js";

/** The schema a `$ref` ("#/definitions/a.b/properties/c") points to inside `root`. */
function deref(root, schema) {
  let seen = 0;
  while (schema && typeof schema.$ref === "string" && seen < 32) {
    let target = root;
    for (const part of schema.$ref.replace(/^#\//, "").split("/")) {
      target = target ? target[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
    }
    schema = target;
    seen += 1;
  }
  return schema && typeof schema === "object" ? schema : null;
}

/** Whether the document node `node` (a map, usually) satisfies an `if` schema. */
function satisfies(schema, node) {
  if (schema.type === "object" && (!node || node.kind !== "map")) return false;
  for (const key of schema.required || []) {
    if (!node || node.kind !== "map" || !node.pairs.some((p) => p.key === key)) return false;
  }
  for (const [key, rule] of Object.entries(schema.properties || {})) {
    const value = scalarAt(node, key);
    if (value === null) continue;
    if ("const" in rule && String(rule.const) !== value) return false;
    if (Array.isArray(rule.enum) && !rule.enum.map(String).includes(value)) return false;
  }
  return true;
}

/**
 * The schemas that apply to `node`: `schema` and what its allOf, its if/then/else and its
 * anyOf/oneOf branches add. Each comes with `strict`: false for alternatives (anyOf/oneOf),
 * which may describe another shape of the value and must not make a key "unknown".
 */
export function applicable(root, schema, node, strict = true, out = []) {
  schema = deref(root, schema);
  if (!schema || out.length > 200) return out;
  out.push({ schema, strict });
  for (const part of schema.allOf || []) applicable(root, part, node, strict, out);
  if (schema.if) {
    const branch = satisfies(deref(root, schema.if) || {}, node) ? schema.then : schema.else;
    if (branch) applicable(root, branch, node, strict, out);
  }
  for (const part of [...(schema.anyOf || []), ...(schema.oneOf || [])]) {
    applicable(root, part, node, false, out);
  }
  return out;
}

/** The schemas of the value at key (a string) or index (a number) below `layers`. */
export function childSchemas(layers, segment) {
  const found = [];
  for (const { schema } of layers) {
    if (typeof segment === "number") {
      if (schema.items && typeof schema.items === "object") found.push(schema.items);
    } else if (schema.properties && segment in schema.properties) {
      found.push(schema.properties[segment]);
    } else if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
      found.push(schema.additionalProperties);
    }
  }
  return found;
}

/** The child of a document node at one path segment. */
function child(node, segment) {
  if (!node) return null;
  if (typeof segment === "number") return node.kind === "seq" ? node.items[segment] || null : null;
  if (node.kind !== "map") return null;
  const pair = node.pairs.find((p) => p.key === segment && !p.partial);
  return pair ? pair.value : null;
}

/**
 * The layers (see {@link applicable}) of the value at `path` of the document `root`, and the
 * raw schemas it was reached through (`via`: a task list's items are `{$ref: flow.task}`).
 */
export function layersAt(schemaRoot, docRoot, path) {
  let node = docRoot;
  let layers = applicable(schemaRoot, schemaRoot, node);
  let via = [schemaRoot];
  for (const segment of path) {
    via = childSchemas(layers, segment);
    node = child(node, segment);
    layers = [];
    for (const schema of via) applicable(schemaRoot, schema, node, true, layers);
  }
  return { layers, via, node };
}

/** A property's text for people: its markdown description, else its description. */
export function describe(schema) {
  return (schema && (schema.markdownDescription || schema.description)) || "";
}

/**
 * The keys a map with these layers may have: name -> {schema, required}; `closed` when a
 * strict layer forbids other keys (they are then unknown).
 */
export function keysOf(layers) {
  const keys = new Map();
  let closed = false;
  let open = false;
  for (const { schema, strict } of layers) {
    for (const [name, property] of Object.entries(schema.properties || {})) {
      const known = keys.get(name);
      // The most specific description wins: a type's own definition comes after the base.
      if (!known || describe(property)) keys.set(name, { schema: property, required: known ? known.required : false });
    }
    if (strict && schema.additionalProperties === false) closed = true;
    if (schema.patternProperties || (schema.additionalProperties && typeof schema.additionalProperties === "object")) {
      open = true;
    }
  }
  for (const { schema, strict } of layers) {
    if (!strict) continue;
    for (const name of schema.required || []) if (keys.has(name)) keys.get(name).required = true;
  }
  return { keys, closed: closed && !open };
}

/** The values a key with these layers takes: [{value, info}] from enums, consts, booleans. */
export function valuesOf(layers) {
  const values = new Map();
  for (const { schema } of layers) {
    const descriptions = schema.markdownEnumDescriptions || schema.enumDescriptions || [];
    for (const [index, value] of (schema.enum || []).entries()) {
      if (!values.has(String(value))) values.set(String(value), descriptions[index] || "");
    }
    if ("const" in schema && !values.has(String(schema.const))) values.set(String(schema.const), describe(schema));
    const types = [].concat(schema.type || []);
    if (types.includes("boolean")) for (const flag of ["true", "false"]) if (!values.has(flag)) values.set(flag, "");
  }
  return [...values].map(([value, info]) => ({ value, info }));
}
