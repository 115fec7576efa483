// Page-wide behaviour shared by every view: the light/dark switch (remembered in a cookie so
// the server renders the right theme on the next page, without a flash).
(function () {
  "use strict";
  const order = ["auto", "light", "dark"];
  document.addEventListener("DOMContentLoaded", function () {
    const button = document.getElementById("theme-toggle");
    if (!button) return;
    button.addEventListener("click", function () {
      const root = document.documentElement;
      const next = order[(order.indexOf(root.dataset.theme || "auto") + 1) % order.length];
      root.dataset.theme = next;
      document.cookie = "plait-theme=" + next + "; path=/; max-age=31536000; SameSite=Lax";
      button.title = "Theme: " + next;
    });
  });
})();
