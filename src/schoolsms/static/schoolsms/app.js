// Every page: move keyboard and screen-reader focus to an element marked data-autofocus (the
// question of a confirmation page), so it is read first.
(function () {
  "use strict";
  const target = document.querySelector("[data-autofocus]");
  if (target) target.focus();
})();
