// The Outputs tab: Ctrl+Enter (or Cmd+Enter) in the Render expression box renders it, as in
// Kestra's box; Enter alone keeps adding lines.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    const box = event.target;
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!(box instanceof HTMLTextAreaElement) || box.id !== "expression" || !box.form) return;
    event.preventDefault();
    box.form.requestSubmit();
  });
})();
