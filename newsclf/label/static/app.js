// newsclf labeling page: keyboard handling and time-on-item. No inline script (CSP script-src 'self').
// Active time counts only while the page is visible and there was keyboard or mouse activity in the
// last data-idle-cap seconds (60 by default); it is sent with each save or skip.
(function () {
  "use strict";
  var page = document.body.getAttribute("data-page");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function byId(id) { return document.getElementById(id); }
  function status(text) { var s = byId("status"); if (s) { s.textContent = text; } }
  function toggleHelp(force) {
    var help = byId("help");
    if (help) { help.hidden = force === undefined ? !help.hidden : !force; }
  }

  if (page === "login") {
    var token = byId("token");
    if (token) { token.focus(); }
    return;
  }

  // Time on item.
  var coding = document.querySelector(".coding");
  var idleCap = coding ? (parseFloat(coding.getAttribute("data-idle-cap")) || 60) * 1000 : 60000;
  var active = 0, lastTick = Date.now(), lastActivity = Date.now();
  setInterval(function () {
    var now = Date.now();
    if (document.visibilityState === "visible" && now - lastActivity < idleCap) { active += now - lastTick; }
    lastTick = now;
  }, 250);
  function activeSeconds() {
    var now = Date.now();
    var extra = (document.visibilityState === "visible" && now - lastActivity < idleCap) ? now - lastTick : 0;
    return ((active + extra) / 1000).toFixed(2);
  }
  ["mousemove", "mousedown", "wheel", "touchstart"].forEach(function (type) {
    document.addEventListener(type, function () { lastActivity = Date.now(); }, { passive: true });
  });

  // Label keys -> checkboxes; pick-one schemes keep at most one checked.
  var keymap = {};
  document.querySelectorAll("input[data-key]").forEach(function (box) {
    keymap[box.getAttribute("data-key")] = box;
    box.addEventListener("change", function () { if (box.checked) { exclusive(box); } });
  });
  function exclusive(box) {
    var fieldset = box.closest("fieldset");
    if (fieldset && fieldset.getAttribute("data-kind") === "single") {
      fieldset.querySelectorAll("input[data-key]").forEach(function (other) {
        if (other !== box) { other.checked = false; }
      });
    }
  }
  function press(box) {
    var single = box.closest("fieldset").getAttribute("data-kind") === "single";
    box.checked = single ? true : !box.checked;
    if (box.checked) { exclusive(box); }
  }

  var busy = false;
  function send(form) {
    if (!form || busy) { return; }
    busy = true;
    form.querySelectorAll("input.seconds").forEach(function (input) { input.value = activeSeconds(); });
    form.submit();
  }
  function save() {
    var form = byId("code-form");
    if (!form) { return; }
    var missing = [];
    form.querySelectorAll('fieldset[data-kind="single"]').forEach(function (fs) {
      if (fs.querySelectorAll("input[data-key]:checked").length !== 1) { missing.push(fs.getAttribute("data-scheme")); }
    });
    if (missing.length) { status("Choose one label for: " + missing.join(", ")); return; }
    send(form);
  }

  // Flag: a note for the guide's author, sent with fetch and the CSRF header; the article stays.
  var flagBox = byId("flag"), flagNote = byId("flag-note");
  function openFlag() { if (flagBox) { flagBox.hidden = false; flagNote.value = ""; flagNote.focus(); } }
  function closeFlag() { if (flagBox) { flagBox.hidden = true; flagNote.blur(); } }
  function sendFlag() {
    var note = flagNote.value.trim();
    var article = byId("article");
    if (!note || !article) { closeFlag(); return; }
    var body = new URLSearchParams();
    body.set("article_id", article.getAttribute("data-article-id"));
    body.set("note", note);
    fetch("/code/flag", {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
    }).then(function (r) {
      status(r.ok ? "Flagged for the guide's author." : "Flag not saved (" + r.status + ").");
    }).catch(function () { status("Flag not saved (network)."); });
    closeFlag();
  }

  document.addEventListener("keydown", function (e) {
    lastActivity = Date.now();
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (e.target === flagNote) {
      if (e.key === "Escape") { e.preventDefault(); closeFlag(); }
      else if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendFlag(); }
      return;
    }
    if (e.target && (e.target.tagName === "INPUT" && e.target.type !== "checkbox" || e.target.tagName === "TEXTAREA")) { return; }
    var key = e.key;
    if (key === "?") { e.preventDefault(); toggleHelp(); return; }
    if (key === "Escape") { toggleHelp(false); return; }
    if (key === "Enter") { e.preventDefault(); save(); return; }
    if (key === "Backspace" || key === "u") { e.preventDefault(); send(byId("undo-form")); return; }
    if (page === "code") {
      if (key === "s") { e.preventDefault(); send(byId("skip-form")); return; }
      if (key === "f") { e.preventDefault(); openFlag(); return; }
    }
    if (page === "review" && key === "s") {
      var next = byId("next-link");
      if (next) { e.preventDefault(); window.location.href = next.getAttribute("href"); }
      return;
    }
    if (keymap.hasOwnProperty(key)) { e.preventDefault(); press(keymap[key]); }
  });
})();
