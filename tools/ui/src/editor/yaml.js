// A small, forgiving reader of block YAML, by indentation: enough to know where the cursor is
// in a flow (which task, which key) while the text is half written. It is no YAML parser: flow
// collections ([a, b], {a: 1}) stay scalars, anchors and tags are not resolved, and nothing is
// ever an error. The server's validate endpoint is the judge of the real YAML.
//
// Nodes: {kind: "map", indent, from, to, pairs: [{key, keyFrom, keyTo, value, partial}]},
// {kind: "seq", indent, from, to, items: [node | null]}, {kind: "scalar", text, from, to}.
// Offsets are positions in the text (CodeMirror's document positions).

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#\[\]{},&*!|>%@`][^:#]*?)[ \t]*:(?=\s|$)/;
const SEQ_ITEM = /^-(?:[ \t]+|$)/;

/** The non-blank, non-comment lines, each with its indentation and content. */
function contentLines(text) {
  const lines = [];
  let from = 0;
  for (const raw of text.split("\n")) {
    const indent = raw.length - raw.trimStart().length;
    const content = raw.slice(indent).replace(/\s+$/, "");
    if (content && !content.startsWith("#")) {
      lines.push({ indent, from: from + indent, end: from + raw.length, content });
    }
    from += raw.length + 1;
  }
  return lines;
}

function unquote(text) {
  if (text.length >= 2 && text[0] === '"' && text.endsWith('"')) {
    return text.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  if (text.length >= 2 && text[0] === "'" && text.endsWith("'")) {
    return text.slice(1, -1).replace(/''/g, "'");
  }
  return text;
}

/** A value's text without its trailing comment (`a # note`), quotes respected. */
function withoutComment(text) {
  if (text[0] === '"' || text[0] === "'") {
    const close = text.indexOf(text[0], 1);
    return close > 0 ? text.slice(0, close + 1) : text;
  }
  const hash = text.search(/\s#/);
  return (hash >= 0 ? text.slice(0, hash) : text).trim();
}

class Reader {
  constructor(text) {
    this.lines = contentLines(text);
    this.at = 0;
  }

  peek() {
    return this.lines[this.at];
  }

  /** A node whose lines are indented at least `min`; null when there is none. */
  node(min) {
    const line = this.peek();
    if (!line || line.indent < min) return null;
    if (SEQ_ITEM.test(line.content)) return this.seq(line.indent);
    if (KEY.test(line.content)) return this.map(line.indent);
    return this.scalar(min);
  }

  /** A plain multi-line scalar: every line indented at least `min`. */
  scalar(min) {
    const first = this.peek();
    const parts = [];
    let last = first;
    while (this.peek() && this.peek().indent >= min) {
      last = this.peek();
      parts.push(withoutComment(last.content));
      this.at += 1;
    }
    return { kind: "scalar", text: unquote(parts.join(" ")), from: first.from, to: last.end };
  }

  /** Lines deeper than `indent` that continue the value just read (block scalars, wrapped
   * plain text); returns the end offset of the last one. */
  skipDeeper(indent, end) {
    while (this.peek() && this.peek().indent > indent) {
      end = this.peek().end;
      this.at += 1;
    }
    return end;
  }

  map(indent) {
    const node = { kind: "map", indent, from: this.peek().from, to: this.peek().end, pairs: [] };
    while (this.peek()) {
      const line = this.peek();
      if (line.indent > indent) {
        node.to = this.skipDeeper(indent, node.to); // misplaced lines: part of nothing
        continue;
      }
      if (line.indent < indent || SEQ_ITEM.test(line.content)) break;
      this.at += 1;
      node.to = line.end;
      const match = KEY.exec(line.content);
      if (!match) {
        // A key being typed (no colon yet).
        const key = line.content.trim();
        node.pairs.push({ key, keyFrom: line.from, keyTo: line.end, value: null, partial: true });
        continue;
      }
      const pair = {
        key: unquote(match[1]),
        keyFrom: line.from,
        keyTo: line.from + match[1].length,
        value: null,
        partial: false,
      };
      const after = line.content.slice(match[0].length);
      const rest = withoutComment(after.trim());
      const restFrom = line.from + line.content.length - after.trimStart().length;
      if (rest === "") {
        const next = this.peek();
        const compact = next && next.indent === indent && SEQ_ITEM.test(next.content);
        pair.value = compact ? this.seq(indent) : this.node(indent + 1);
      } else {
        const to = this.skipDeeper(indent, restFrom + rest.length);
        const block = /^[|>]/.test(rest);
        pair.value = { kind: "scalar", text: block ? "" : unquote(rest), from: restFrom, to };
      }
      if (pair.value) node.to = Math.max(node.to, pair.value.to);
      node.pairs.push(pair);
    }
    return node;
  }

  seq(indent) {
    const node = { kind: "seq", indent, from: this.peek().from, to: this.peek().end, items: [] };
    while (this.peek()) {
      const line = this.peek();
      if (line.indent !== indent || !SEQ_ITEM.test(line.content)) break;
      const dash = SEQ_ITEM.exec(line.content)[0].length;
      const rest = line.content.slice(dash);
      if (rest) {
        // The item's content starts on the dash's line: read it as a line of its own.
        this.lines[this.at] = { ...line, indent: indent + dash, from: line.from + dash, content: rest };
      } else {
        this.at += 1;
      }
      const item = this.node(indent + 1);
      node.items.push(item);
      node.to = Math.max(node.to, item ? item.to : line.end);
    }
    return node;
  }
}

/** The tree of `text` (null when it has no content). */
export function parse(text) {
  const reader = new Reader(text);
  const root = reader.node(0);
  return root;
}

/** The value of `key` in a map node (null when absent or not a map). */
export function get(node, key) {
  if (!node || node.kind !== "map") return null;
  const pair = node.pairs.find((p) => p.key === key && !p.partial);
  return pair ? pair.value : null;
}

/** The text of a scalar value of a map node, or null. */
export function scalarAt(node, key) {
  const value = get(node, key);
  return value && value.kind === "scalar" ? value.text : null;
}

/** Every node with its path (keys and item indexes), depth first, in document order. */
export function* walk(node, path = []) {
  if (!node) return;
  yield { node, path };
  if (node.kind === "map") {
    for (const pair of node.pairs) yield* walk(pair.value, [...path, pair.key]);
  } else if (node.kind === "seq") {
    for (const [index, item] of node.items.entries()) yield* walk(item, [...path, index]);
  }
}

export const CURSOR = "__plait_cursor__";

const KEY_PREFIX = /^([ \t]*(?:-[ \t]+)*)([\w.$-]*)$/;
const VALUE_PREFIX = /^([ \t]*(?:-[ \t]+)*)("[^"]*"|'[^']*'|[^\s"'#][^:#]*?)[ \t]*:[ \t]+(\S*)$/;

/**
 * Where the cursor at `pos` stands: `{kind: "key", path, map, word, from}` when a key of the
 * map at `path` is being typed, `{kind: "value", path, parent, key, word, from}` when the value
 * of a key, null elsewhere. The text is read with a marker at the cursor in place of the word
 * being typed, so the marker lands exactly where the indentation puts it.
 */
export function cursorContext(text, pos) {
  const lineFrom = text.lastIndexOf("\n", pos - 1) + 1;
  const lineEnd = text.indexOf("\n", pos) < 0 ? text.length : text.indexOf("\n", pos);
  const before = text.slice(lineFrom, pos);
  let kind;
  let marked;
  let word;
  const value = VALUE_PREFIX.exec(before);
  const key = KEY_PREFIX.exec(before);
  if (value) {
    kind = "value";
    word = value[3];
    marked = `${before.slice(0, before.length - word.length)}${CURSOR}`;
  } else if (key) {
    kind = "key";
    word = key[2];
    marked = `${key[1]}${CURSOR}:`;
  } else {
    return null;
  }
  const root = parse(text.slice(0, lineFrom) + marked + text.slice(lineEnd));
  for (const { node, path } of walk(root)) {
    if (kind === "key" && node.kind === "map" && node.pairs.some((p) => p.key === CURSOR)) {
      return { kind, path, map: node, root, word, from: pos - word.length };
    }
    if (kind === "value" && node.kind === "map") {
      const pair = node.pairs.find((p) => p.value && p.value.kind === "scalar" && p.value.text === CURSOR);
      if (pair) {
        return { kind, path: [...path, pair.key], parent: node, key: pair.key, root, word, from: pos - word.length };
      }
    }
  }
  return null;
}
