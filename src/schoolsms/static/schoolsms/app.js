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
