// Execution pages: keep the Gantt's folded/unfolded loop groups as the user left them across
// the page's live refreshes, and tail the logs over server-sent events with the same level
// (asked of the server) and search (applied here, as the server applies it) as the page.
(function () {
  "use strict";

  const opened = new Map();
  document.addEventListener("toggle", function (event) {
    const details = event.target;
    if (details instanceof HTMLDetailsElement && details.id) opened.set(details.id, details.open);
  }, true);
  document.addEventListener("htmx:afterSettle", function () {
    opened.forEach(function (open, id) {
      const details = document.getElementById(id);
      if (details instanceof HTMLDetailsElement && details.open !== open) details.open = open;
    });
  });

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function logRow(line) {
    const tr = document.createElement("tr");
    tr.className = "log-" + line.level;
    tr.append(
      cell(line.timestamp.slice(11, 23), "mono nowrap"),
      cell(line.level, "level"),
      cell(line.taskId || ""),
      cell(line.message, "message"),
    );
    return tr;
  }

  function matches(line, query) {
    return !query || line.message.toLowerCase().includes(query)
      || (line.taskId || "").toLowerCase().includes(query);
  }

  function tail(table) {
    const body = table.tBodies[0];
    const scroller = document.getElementById("log-scroll");
    const status = document.getElementById("log-status");
    const pause = document.getElementById("log-pause");
    const query = (table.dataset.q || "").toLowerCase();
    let skip = parseInt(table.dataset.sent || "0", 10); // lines the page already has
    let paused = false;
    const follow = function () {
      if (!paused) scroller.scrollTop = scroller.scrollHeight;
    };
    if (pause) {
      pause.addEventListener("click", function () {
        paused = !paused;
        pause.setAttribute("aria-pressed", String(paused));
        pause.textContent = paused ? "Resume auto-scroll" : "Pause auto-scroll";
        follow();
      });
    }
    follow();
    const logs = new EventSource(table.dataset.follow);
    logs.addEventListener("progress", function (event) {
      if (skip > 0) {
        skip -= 1;
        return;
      }
      const line = JSON.parse(event.data);
      if (!matches(line, query)) return;
      body.appendChild(logRow(line));
      follow();
    });
    const execution = new EventSource(table.dataset.executionFollow);
    execution.addEventListener("end", function (event) {
      execution.close();
      const state = JSON.parse(event.data).state.current;
      // The log stream looks at the store every 0.25 s: a second more brings the last lines.
      setTimeout(function () {
        logs.close();
        status.textContent = "Execution ended " + state + ".";
        if (pause) pause.hidden = true;
      }, 1000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const table = document.getElementById("logs");
    if (table && table.dataset.follow) tail(table);
  });
})();
