// A draft's page: show the date-time input only when "Schedule for later" is chosen.
(function () {
  "use strict";
  for (const form of document.querySelectorAll("form.when")) {
    const sync = () => {
      const when = (form.querySelector("input[name=when]:checked") || {}).value || "now";
      for (const part of form.querySelectorAll("[data-when]")) part.hidden = part.dataset.when !== when;
    };
    form.addEventListener("change", sync);
    sync();
  }
})();
