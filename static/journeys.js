// Journeys: the editor checks the definition as you type (a debounced POST
// of the text to the dashboard's validation endpoint, which runs the
// server's own parse and check), and the journey page refreshes its counts
// from a small JSON poll. Both are extras: the pages work without them.
(function () {
  "use strict";
  if (!window.fetch) return;

  var form = document.getElementById("journey-form");
  if (form) {
    var ta = document.getElementById("journey-json");
    var out = document.getElementById("journey-check");
    var csrf = form.querySelector('input[name="csrf_token"]');
    var url = form.getAttribute("data-validate-url");
    var timer = null, seq = 0;
    var show = function (ok, path, msg) {
      out.textContent = "";
      var p = document.createElement("p");
      if (ok) {
        p.className = "hint check-ok";
        p.id = "journey-ok";
        p.textContent = msg;
      } else {
        p.className = "flash flash-error";
        p.id = "journey-error";
        if (path) {
          var c = document.createElement("code");
          c.id = "journey-error-path";
          c.textContent = path;
          p.appendChild(c);
          p.appendChild(document.createTextNode(": "));
        }
        var s = document.createElement("span");
        s.id = "journey-error-msg";
        s.textContent = msg;
        p.appendChild(s);
      }
      out.appendChild(p);
    };
    var check = function () {
      var mine = ++seq;
      fetch(url, {
        method: "POST", credentials: "same-origin",
        // Not a background request: typing is the admin at work, so it keeps the session alive.
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf ? csrf.value : "" },
        body: ta.value
      }).then(function (r) {
        if (r.status === 413) return { error: "the definition is too large for this form" };
        if (!r.ok) return { error: "could not check (" + r.status + "): reload the page if this stays" };
        return r.json();
      }).then(function (j) {
        if (mine !== seq) return; // an older answer arriving late
        if (j.ok) show(true, "", "Valid: " + j.steps + (j.steps === 1 ? " step." : " steps."));
        else show(false, j.path || "", j.error || "invalid");
      }).catch(function () { /* offline: the save checks again */ });
    };
    ta.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, 300);
    });
    // Tab indents instead of leaving the field (Escape then Tab leaves).
    var escaped = false;
    ta.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { escaped = true; return; }
      if (e.key === "Tab" && !e.shiftKey && !escaped) {
        e.preventDefault();
        var s = ta.selectionStart;
        ta.setRangeText("  ", s, ta.selectionEnd, "end");
        ta.dispatchEvent(new Event("input"));
      }
      escaped = false;
    });
  }

  // The list of journeys: its block is re-rendered by the server (this
  // same page, fetched in the background) every few seconds.
  var list = document.getElementById("journeys");
  if (list && list.hasAttribute("data-refresh") && window.DOMParser) {
    window.setInterval(function () {
      if (document.hidden) return;
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html", "X-Inlet-Background": "1" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("journeys");
          var cur = document.getElementById("journeys");
          if (fresh && cur) cur.replaceWith(document.importNode(fresh, true));
        })
        .catch(function () { /* offline or signed out: try again next tick */ });
    }, 3000);
  }

  var counts = document.getElementById("journey-counts");
  var statsURL = counts && counts.getAttribute("data-stats-url");
  if (statsURL) {
    var set = function (el, v) {
      var t = String(v || 0);
      if (el && el.textContent !== t) el.textContent = t;
    };
    var poll = function () {
      if (document.hidden) return;
      fetch(statsURL, { credentials: "same-origin", headers: { "Accept": "application/json", "X-Inlet-Background": "1" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          if (!j) return;
          ["entered", "active", "completed", "exited"].forEach(function (k) {
            set(counts.querySelector('[data-count="' + k + '"]'), j[k]);
          });
          document.querySelectorAll("li[data-step]").forEach(function (li) {
            var id = li.getAttribute("data-step");
            var box = li.querySelector(".step-counts");
            if (!box) return;
            set(box.querySelector('[data-count="waiting"]'), j.waiting[id]);
            set(box.querySelector('[data-count="passed"]'), j.passed[id]);
            set(box.querySelector('[data-count="sent"]'), j.sent[id]);
          });
        })
        .catch(function () { /* offline or signed out: try again next tick */ });
    };
    window.setInterval(poll, 2000);
  }
})();
