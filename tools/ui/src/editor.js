// The flow editor page (templates/editor.html): CodeMirror 6 on the flow's YAML, completing
// and checking from the server's flow schema, saving and running through the REST API.
// Tab indents; Esc then Tab (or Ctrl-M) lets keyboard users leave the editor.

import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { HighlightStyle, bracketMatching, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { forceLinting, linter, lintGutter, lintKeymap, setDiagnostics } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { yaml } from "@codemirror/lang-yaml";
import { tags } from "@lezer/highlight";

import { flowCompletions } from "./editor/completion.js";
import { localDiagnostics, merge, problemDiagnostic, serverProblems } from "./editor/diagnostics.js";
import { fillUrl, needsInputs, saveFlow, startExecution } from "./editor/actions.js";

const data = JSON.parse(document.getElementById("editor-data").textContent);
const source = document.getElementById("editor-source");
const statusLine = document.getElementById("editor-status");
const problemList = document.getElementById("editor-problems");
const saveButton = document.getElementById("editor-save");
const runButton = document.getElementById("editor-run");
let schema = null;
let savedText = source.value;
let busy = false;

function status(message, kind = "") {
  statusLine.textContent = message;
  statusLine.className = kind;
}

/** The problems list under the editor: one button per diagnostic, moving the cursor there. */
function showProblems(view, diagnostics) {
  problemList.replaceChildren(
    ...diagnostics.map((diagnostic) => {
      const line = view.state.doc.lineAt(diagnostic.from);
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "editor-problem";
      button.textContent = `Line ${line.number}, column ${diagnostic.from - line.from + 1}: ${diagnostic.message}`;
      button.addEventListener("click", () => {
        view.dispatch({ selection: { anchor: diagnostic.from }, scrollIntoView: true });
        view.focus();
      });
      item.append(button);
      return item;
    }),
  );
  document.getElementById("editor-problems-count").textContent = diagnostics.length
    ? `${diagnostics.length} problem${diagnostics.length > 1 ? "s" : ""}`
    : "No problems";
}

/** The linter: the editor's own checks at once, then the server's validation merged in. */
async function lintFlow(view) {
  const text = view.state.doc.toString();
  const local = localDiagnostics(text, schema, data);
  let server = [];
  try {
    server = (await serverProblems(data.api, text)).map((p) => problemDiagnostic(view.state.doc, p));
  } catch (error) {
    status(`Validation by the server failed (${error.message}); only the editor's own checks are shown.`, "error");
  }
  if (view.state.doc.toString() !== text) return []; // outdated: the next run will report
  const diagnostics = merge(view.state.doc, server, local);
  showProblems(view, diagnostics);
  return diagnostics;
}

function showSaveProblems(view, result) {
  const diagnostics = result.problems.map((p) => problemDiagnostic(view.state.doc, p));
  view.dispatch(setDiagnostics(view.state, diagnostics));
  showProblems(view, diagnostics);
  status(`Not saved: ${result.error}`, "error");
}

/** After the first save of a new flow, the page becomes that flow's editor. */
function becomeFlow(flow) {
  data.flow = { namespace: flow.namespace, id: flow.id, revision: flow.revision };
  window.history.replaceState(null, "", fillUrl(data, data.urls.edit, flow.namespace, flow.id));
  const title = document.getElementById("editor-title");
  if (title) title.textContent = `${flow.namespace}.${flow.id}`;
}

async function save(view) {
  if (busy) return null;
  busy = true;
  status("Saving…");
  const text = view.state.doc.toString();
  try {
    const result = await saveFlow(data, text);
    if (!result.flow) {
      showSaveProblems(view, result);
      return null;
    }
    savedText = text;
    if (!data.flow) becomeFlow(result.flow);
    data.flow.revision = result.flow.revision;
    document.getElementById("editor-revision").textContent = `revision ${result.flow.revision}`;
    status(`Saved revision ${result.flow.revision}.`, "saved");
    return result.flow;
  } finally {
    busy = false;
  }
}

async function run(view) {
  const flow = await save(view);
  if (!flow) return;
  if (needsInputs(flow)) {
    window.location.assign(fillUrl(data, data.urls.execute, flow.namespace, flow.id));
    return;
  }
  status("Starting an execution…");
  const result = await startExecution(data, flow);
  if (!result.execution) {
    status(`Not started: ${result.error}`, "error");
    return;
  }
  window.location.assign(fillUrl(data, data.urls.execution, flow.namespace, flow.id, result.execution.id));
}

const highlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: "var(--accent)" },
  { tag: [tags.string, tags.special(tags.string)], color: "var(--success)" },
  { tag: [tags.number, tags.bool, tags.null, tags.keyword], color: "var(--warning)" },
  { tag: [tags.comment, tags.meta], color: "var(--muted)", fontStyle: "italic" },
  { tag: [tags.punctuation, tags.separator, tags.operator], color: "var(--muted)" },
]);

const theme = EditorView.theme({
  "&": { color: "var(--fg)", backgroundColor: "var(--bg)", border: "1px solid var(--border)", borderRadius: "6px" },
  "&.cm-focused": { outline: "2px solid var(--focus)" },
  ".cm-content": { fontFamily: "var(--mono)", caretColor: "var(--fg)" },
  ".cm-scroller": { fontFamily: "var(--mono)" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--fg)" },
  ".cm-gutters": { backgroundColor: "var(--panel)", color: "var(--muted)", borderRight: "1px solid var(--border)" },
  ".cm-activeLine, .cm-activeLineGutter": { backgroundColor: "color-mix(in srgb, var(--accent) 8%, transparent)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": {
    backgroundColor: "color-mix(in srgb, var(--accent) 25%, transparent)",
  },
  ".cm-tooltip": { backgroundColor: "var(--panel)", color: "var(--fg)", border: "1px solid var(--border)" },
  ".cm-tooltip.cm-tooltip-autocomplete > ul": { maxWidth: "min(90vw, 640px)" },
  ".cm-tooltip-autocomplete > ul > li[aria-selected]": { backgroundColor: "var(--accent)", color: "var(--accent-fg)" },
});

const view = new EditorView({
  parent: source.parentElement,
  state: EditorState.create({
    doc: source.value,
    extensions: [
      lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), history(), drawSelection(),
      indentOnInput(), bracketMatching(), closeBrackets(), highlightActiveLine(), highlightSelectionMatches(),
      yaml(), syntaxHighlighting(highlight), theme, lintGutter(), EditorView.lineWrapping,
      EditorState.tabSize.of(2),
      autocompletion({ override: [flowCompletions(() => ({ schema, catalog: data }))] }),
      linter(lintFlow, { delay: 500 }),
      keymap.of([
        { key: "Mod-s", run: (v) => (save(v), true), preventDefault: true },
        { key: "Mod-Enter", run: (v) => (run(v), true), preventDefault: true },
        ...closeBracketsKeymap, ...completionKeymap, ...searchKeymap, ...historyKeymap, ...lintKeymap,
        ...defaultKeymap, indentWithTab,
      ]),
      EditorView.contentAttributes.of({ "aria-label": "Flow YAML", "aria-describedby": "editor-help" }),
    ],
  }),
});
source.hidden = true;
view.dom.id = "flow-editor";

saveButton.addEventListener("click", () => save(view));
runButton.addEventListener("click", () => run(view));
window.addEventListener("beforeunload", (event) => {
  if (view.state.doc.toString() !== savedText) event.preventDefault();
});

fetch(data.schemaUrl)
  .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
  .then((loaded) => {
    schema = loaded;
    forceLinting(view); // again, now that the schema's checks can run
  })
  .catch((error) => status(`Could not load the flow schema (${error.message}): no completion.`, "error"));
