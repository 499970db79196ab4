// Compose page: counts characters and segments while typing, exactly as messaging/text.py does
// (the tables come from the server); the server's answer (htmx) then replaces this preview.
(function () {
  "use strict";
  const tables = JSON.parse(document.getElementById("gsm-tables").textContent);
  const segmentLimit = JSON.parse(document.getElementById("segment-limit").textContent);
  const cost = new Map();
  for (const c of tables.basic) cost.set(c, 1);
  for (const c of tables.extension) cost.set(c, 2);

  function check(text) {
    const chars = Array.from(text); // code points, like Python's str
    const gsm = chars.every((c) => cost.has(c));
    const encoding = gsm ? "GSM-7" : "UCS-2";
    const costs = chars.map((c) => (gsm ? cost.get(c) : c.codePointAt(0) > 0xffff ? 2 : 1));
    const units = costs.reduce((a, b) => a + b, 0);
    let segments = 0, last = 0, limit = tables.single[encoding];
    if (chars.length && units <= limit) {
      segments = 1; last = units;
    } else if (chars.length) {
      limit = tables.perSegment[encoding];
      segments = 1;
      for (const c of costs) {
        if (last + c > limit) { segments += 1; last = 0; }
        last += c;
      }
    }
    const forcing = new Map();
    if (!gsm) chars.forEach((c, i) => { if (!cost.has(c)) { if (!forcing.has(c)) forcing.set(c, []); forcing.get(c).push(i + 1); } });
    return { chars, encoding, units, segments, limit, remaining: limit - last, forcing };
  }

  window.smsTextCheck = check; // for tests: the same answers as messaging/text.py

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  }
  const plural = (n, word) => `${word}${n === 1 ? "" : "s"}`;

  function render(text, id) {
    const r = check(text);
    const box = el("div", {
      id: id, class: "text-check" + (r.segments > segmentLimit ? " over-limit" : ""),
      "data-source": "client", "data-encoding": r.encoding, "data-segments": String(r.segments),
      "aria-live": "polite",
    });
    const sep = () => el("span", {}, "·");
    box.append(el("p", { class: "counter" },
      el("span", { class: "badge " + (r.encoding === "GSM-7" ? "badge-ok" : "status-pending"), "data-role": "encoding" }, r.encoding),
      el("span", {}, el("strong", { "data-role": "characters" }, String(r.chars.length)), " " + plural(r.chars.length, "character")),
      sep(),
      el("span", {}, el("strong", { "data-role": "segments" }, String(r.segments)), " SMS " + plural(r.segments, "segment") + " ",
        el("span", { class: "muted" }, `(limit ${segmentLimit})`)),
      sep(),
      el("span", {}, el("strong", { "data-role": "remaining" }, String(r.remaining)), " left in this segment")));
    if (r.segments > segmentLimit) {
      box.append(el("p", { class: "notice notice-error", "data-role": "limit" },
        `This message needs ${r.segments} segments; the limit is ${segmentLimit}. Shorten it` +
        (r.forcing.size ? " or replace the characters below." : ".")));
    }
    if (r.forcing.size) {
      const list = el("ul", { class: "forcing-list" });
      for (const [c, positions] of r.forcing) {
        const code = "U+" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
        list.append(el("li", {}, el("mark", { class: "forcing-char" }, c), " ", el("span", { class: "muted" }, code),
          ` at position ${positions.slice(0, 5).join(", ")}${positions.length > 5 ? ", …" : ""}`));
      }
      const preview = el("div", { class: "text-preview" });
      for (const c of r.chars) preview.append(r.forcing.has(c) ? el("mark", {}, c) : c);
      box.append(el("div", { class: "forcing", "data-role": "forcing" },
        el("p", {}, `These characters make the whole message Unicode (UCS-2), which fits only ${r.limit} characters per segment instead of ${r.segments > 1 ? 153 : 160}:`),
        list, preview));
    }
    document.getElementById(id).replaceWith(box);
  }

  // Every text (English and each other language) has its own counter, named in data-check.
  for (const area of document.querySelectorAll("textarea[data-check]")) {
    area.addEventListener("input", () => render(area.value, area.dataset.check));
  }
  const textarea = document.getElementById("id_text");
  const bubble = document.getElementById("bubble");
  textarea.addEventListener("input", () => { bubble.textContent = textarea.value; });

  // Show only the inputs that matter for the chosen audience and timing.
  const form = document.getElementById("compose");
  const sendButton = document.getElementById("send-button");
  function sync() {
    const audience = (form.querySelector("input[name=audience]:checked") || {}).value || "all";
    for (const part of form.querySelectorAll("[data-audience]")) part.hidden = part.dataset.audience !== audience;
    const when = (form.querySelector("input[name=when]:checked") || {}).value || "now";
    for (const part of form.querySelectorAll("[data-when]")) part.hidden = part.dataset.when !== when;
    sendButton.textContent = when === "later" ? "Schedule" : "Send now";
  }
  form.addEventListener("change", sync);
  sync();

  // An error the server found goes away once the user changes the field it is about.
  function clearErrors(event) {
    const name = event.target.name;
    if (!name) return;
    for (const error of form.querySelectorAll("[data-error-for]")) {
      if (error.dataset.errorFor.split(" ").includes(name)) {
        error.remove();
        event.target.removeAttribute("aria-invalid");
      }
    }
  }
  form.addEventListener("input", clearErrors);
  form.addEventListener("change", clearErrors);
})();
