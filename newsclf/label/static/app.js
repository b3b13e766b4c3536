// newsclf labeling page: keys, buttons and time-on-item. No inline script (CSP script-src 'self').
// Every action works three ways: its key, a click, or a tap. Label keys act on the active unit of
// their scheme (a scheme, or a stance scheme toward one target); choosing a pick-one label moves on
// to the scheme's next unanswered target. Active time counts only while the page is visible and there
// was keyboard, mouse or touch activity in the last data-idle-cap seconds; it is sent with each save or skip.
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
  if (page === "error") {
    var back = byId("back-link");
    document.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && back) { e.preventDefault(); window.location.href = back.getAttribute("href"); }
    });
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

  // Units: one fieldset per scheme (and per stance target). The active unit of each scheme takes its keys.
  var units = Array.prototype.slice.call(document.querySelectorAll("fieldset.scheme"));
  function boxes(unit) { return Array.prototype.slice.call(unit.querySelectorAll("input[data-key]")); }
  function answered(unit) { return boxes(unit).some(function (b) { return b.checked; }); }
  function schemeUnits(scheme) { return units.filter(function (u) { return u.getAttribute("data-scheme") === scheme; }); }
  function activate(unit) {
    schemeUnits(unit.getAttribute("data-scheme")).forEach(function (u) { u.classList.toggle("active", u === unit); });
  }
  function activeUnit(scheme) {
    var list = schemeUnits(scheme);
    return list.filter(function (u) { return u.classList.contains("active"); })[0] || list[0];
  }
  // The relevance gate, when the guide has one: its "yes" label opens the other schemes; any other
  // answer closes them (hidden, not sent). Coding another scheme first answers the gate "yes".
  var gateUnit = document.querySelector("fieldset[data-gate]");
  function gateAnswer() {
    if (!gateUnit) { return null; }
    var on = boxes(gateUnit).filter(function (b) { return b.checked; })[0];
    return on ? on.value.split(":")[1] : null;
  }
  function gateClosed() { var a = gateAnswer(); return a !== null && a !== gateUnit.getAttribute("data-gate"); }
  function applyGate() {
    var closed = gateClosed();
    units.forEach(function (u) {
      if (!u.hasAttribute("data-gated")) { return; }
      u.hidden = closed;
      boxes(u).forEach(function (b) { b.disabled = closed; });
    });
  }
  function openGate() {
    if (gateUnit && gateAnswer() === null) {
      var pass = boxes(gateUnit).filter(function (b) { return b.value.split(":")[1] === gateUnit.getAttribute("data-gate"); })[0];
      if (pass) { pass.checked = true; applyGate(); }
    }
  }
  var schemeOfKey = {};
  units.forEach(function (unit) {
    boxes(unit).forEach(function (box) {
      if (!box.hasAttribute("data-none")) { schemeOfKey[box.getAttribute("data-key")] = unit.getAttribute("data-scheme"); }
      box.addEventListener("change", function () {
        if (box.checked) { settle(box); }
        if (unit === gateUnit) { applyGate(); } else if (unit.hasAttribute("data-gated") && box.checked) { openGate(); }
      });
    });
    unit.addEventListener("focusin", function () { activate(unit); });
    unit.addEventListener("click", function () { activate(unit); });
  });
  applyGate();  // an undone item comes back with its gate answer
  // Start each scheme at its first unanswered unit.
  var seen = {};
  units.forEach(function (u) {
    var s = u.getAttribute("data-scheme");
    if (!seen[s]) { seen[s] = true; activate(schemeUnits(s).filter(function (x) { return !answered(x); })[0] || u); }
  });

  // A ticked box may untick others: "none of these" and exclusive labels stand alone.
  function settle(box) {
    var unit = box.closest("fieldset");
    var alone = box.hasAttribute("data-none") || box.hasAttribute("data-exclusive");
    boxes(unit).forEach(function (other) {
      if (other === box || other.type === "radio") { return; }
      if (alone || other.hasAttribute("data-none") || other.hasAttribute("data-exclusive")) { other.checked = false; }
    });
  }
  function press(unit, key) {
    var box = boxes(unit).filter(function (b) { return b.getAttribute("data-key") === key; })[0];
    if (!box) { return; }
    if (unit.hasAttribute("data-gated")) { openGate(); }
    box.checked = box.type === "radio" ? true : !box.checked;
    if (box.checked) { settle(box); }
    if (unit === gateUnit) {
      applyGate();
      if (gateClosed()) { save(); return; }  // one key: "not about AI" ends the item
    }
    if (box.type === "radio") {  // moves on to the scheme's next unanswered target
      var next = schemeUnits(unit.getAttribute("data-scheme")).filter(function (u) { return !answered(u); })[0];
      if (next) { activate(next); }
    }
  }
  function move(step) {
    var targeted = units.filter(function (u) { return u.getAttribute("data-target"); });
    if (!targeted.length) { return; }
    var current = targeted.filter(function (u) { return u.classList.contains("active"); })[0] || targeted[0];
    var i = (targeted.indexOf(current) + step + targeted.length) % targeted.length;
    activate(targeted[i]);
  }

  var busy = false;
  function send(form) {
    if (!form || busy) { return; }
    busy = true;
    form.querySelectorAll("input.seconds").forEach(function (input) { input.value = activeSeconds(); });
    form.submit();
  }
  function missing() {
    var out = [];
    units.forEach(function (unit) {
      if (unit.hidden) { return; }  // closed by the gate: not coded
      var name = unit.getAttribute("data-scheme") + (unit.getAttribute("data-target") ? " toward " + unit.getAttribute("data-target") : "");
      var ticked = boxes(unit).filter(function (b) { return b.checked; });
      if (unit.getAttribute("data-kind") === "single" && ticked.length !== 1) { out.push(name + " (choose one)"); }
      if (unit.getAttribute("data-kind") === "multi" && !ticked.length) { out.push(name + " (tick labels or 0: none of these)"); }
    });
    return out;
  }
  function save() {
    var form = byId("code-form");
    if (!form) { return; }
    var gaps = missing();
    if (gaps.length) { status("Not saved yet. Still to answer: " + gaps.join("; ")); return; }
    send(form);
  }
  var codeForm = byId("code-form");
  if (codeForm) {
    codeForm.addEventListener("submit", function (e) { e.preventDefault(); save(); });
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

  function nextReview() {
    var next = byId("next-link");
    if (next) { window.location.href = next.getAttribute("href"); }
  }
  var actions = {
    skip: function () { send(byId("skip-form")); },
    undo: function () { send(byId("undo-form")); },
    flag: openFlag, "send-flag": sendFlag, "cancel-flag": closeFlag,
    help: function () { toggleHelp(); }
  };
  document.querySelectorAll("button[data-action]").forEach(function (button) {
    button.addEventListener("click", function (e) { e.preventDefault(); actions[button.getAttribute("data-action")](); });
  });

  document.addEventListener("keydown", function (e) {
    lastActivity = Date.now();
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (e.target === flagNote) {
      if (e.key === "Escape") { e.preventDefault(); closeFlag(); }
      else if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendFlag(); }
      return;
    }
    var tag = e.target && e.target.tagName;
    if (tag === "TEXTAREA" || (tag === "INPUT" && e.target.type !== "checkbox" && e.target.type !== "radio")) { return; }
    var key = e.key;
    if (key === "?") { e.preventDefault(); toggleHelp(); return; }
    if (key === "Escape") { toggleHelp(false); return; }
    if (key === "Enter") { e.preventDefault(); save(); return; }
    if (key === "Backspace" || key === "u") { e.preventDefault(); actions.undo(); return; }
    if (key === "ArrowDown" || key === "ArrowUp") {
      if (units.some(function (u) { return u.getAttribute("data-target"); })) { e.preventDefault(); move(key === "ArrowDown" ? 1 : -1); }
      return;
    }
    if (page === "code") {
      if (key === "s") { e.preventDefault(); actions.skip(); return; }
      if (key === "f") { e.preventDefault(); openFlag(); return; }
    }
    if (page === "review" && key === "s") { e.preventDefault(); nextReview(); return; }
    if (key === "0") {
      var multi = units.filter(function (u) { return u.getAttribute("data-kind") === "multi"; });
      var target = multi.filter(function (u) { return u.classList.contains("active"); })[0] || multi[0];
      if (target) { e.preventDefault(); press(target, "0"); }
      return;
    }
    if (schemeOfKey.hasOwnProperty(key)) { e.preventDefault(); press(activeUnit(schemeOfKey[key]), key); }
  });
})();
