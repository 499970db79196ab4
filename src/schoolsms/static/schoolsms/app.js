// Every page: move keyboard and screen-reader focus to an element marked data-autofocus (the
// question of a confirmation page), so it is read first.
(function () {
  "use strict";
  const target = document.querySelector("[data-autofocus]");
  if (target) target.focus();
})();

// A long list of checkboxes with a "Find" box above it (data-find-in="list id"): typing hides
// the entries whose text does not contain what was typed. Without JavaScript the list scrolls.
(function () {
  "use strict";
  for (const box of document.querySelectorAll("input[data-find-in]")) {
    const list = document.getElementById(box.dataset.findIn);
    if (!list) continue;
    box.addEventListener("input", function () {
      const wanted = box.value.trim().toLowerCase();
      for (const label of list.querySelectorAll("label")) {
        label.hidden = wanted !== "" && !label.textContent.toLowerCase().includes(wanted);
      }
    });
  }
})();

// A table wider than a phone's screen scrolls inside its card (app.css); a keyboard can only
// scroll what it can focus, so such a table (or its scroll box) joins the tab order while it
// is too wide, and leaves it when it fits again.
(function () {
  "use strict";
  function mark() {
    for (const box of document.querySelectorAll("main table, main .overflow-auto")) {
      const scrolls = box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== "visible";
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.dataset.scrollFocus = "1";
      } else if (!scrolls && box.dataset.scrollFocus) {
        box.removeAttribute("tabindex");
        delete box.dataset.scrollFocus;
      }
    }
  }
  mark();
  window.addEventListener("resize", mark);
  document.addEventListener("htmx:afterSettle", mark);
})();
