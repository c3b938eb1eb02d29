// Inlet dashboard behaviour. Everything works without JavaScript; this file
// only adds conveniences. It is loaded as an external script because the
// Content-Security-Policy forbids inline script.
(function () {
  "use strict";

  function byId(sel) {
    return sel ? document.querySelector(sel) : null;
  }

  function announce(btn, text) {
    var old = btn.getAttribute("data-label") || btn.textContent;
    btn.setAttribute("data-label", old);
    btn.textContent = text;
    window.setTimeout(function () { btn.textContent = old; }, 1600);
  }

  // Copy buttons: <button data-copy="#field">Copy</button>
  function copy(btn) {
    var el = byId(btn.getAttribute("data-copy"));
    if (!el) return;
    var text = el.value !== undefined ? el.value : el.textContent;
    var done = function () { announce(btn, "Copied"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(el, done); });
    } else {
      fallbackCopy(el, done);
    }
  }

  function fallbackCopy(el, done) {
    if (typeof el.select !== "function") {
      // A <pre> or other element: select its text with a range.
      var range = document.createRange();
      range.selectNodeContents(el);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      try { document.execCommand("copy"); done(); } catch (e) { /* left selected for a manual copy */ }
      return;
    }
    var wasPassword = el.type === "password";
    if (wasPassword) el.type = "text";
    el.focus();
    el.select();
    try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected for a manual copy */ }
    if (wasPassword) el.type = "password";
  }

  // Show/hide toggles for password fields: <button data-toggle-password="#field">
  function toggle(btn) {
    var el = byId(btn.getAttribute("data-toggle-password"));
    if (!el) return;
    var show = el.type === "password";
    el.type = show ? "text" : "password";
    btn.textContent = show ? "Hide" : "Show";
    btn.setAttribute("aria-pressed", show ? "true" : "false");
  }

  // Generate a strong secret in the browser: 32 random bytes as hex.
  function generate(btn) {
    var el = byId(btn.getAttribute("data-generate-secret"));
    if (!el || !window.crypto || !window.crypto.getRandomValues) return;
    var bytes = new Uint8Array(32);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) hex += ("0" + bytes[i].toString(16)).slice(-2);
    el.value = hex;
    el.type = "text"; // the admin has to copy it into Segment, so show it
    var t = document.querySelector('[data-toggle-password="' + btn.getAttribute("data-generate-secret") + '"]');
    if (t) { t.textContent = "Hide"; t.setAttribute("aria-pressed", "true"); }
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.focus();
    el.select();
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button");
    if (!btn) return;
    if (btn.hasAttribute("data-copy")) { ev.preventDefault(); copy(btn); }
    else if (btn.hasAttribute("data-toggle-password")) { ev.preventDefault(); toggle(btn); }
    else if (btn.hasAttribute("data-generate-secret")) { ev.preventDefault(); generate(btn); }
  });

  // Confirmation for destructive forms: <form data-confirm="Really?">. The
  // server still requires its own confirm field, so this is a second guard.
  // A form with an "I understand" box (name="confirm") asks only once it is
  // ticked: unticked, the box's error shows beside it, in view, and no
  // dialog opens.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form.getAttribute("data-confirm");
    if (!msg) return;
    var ack = form.querySelector('input[type="checkbox"][name="confirm"]');
    if (ack && !ack.checked) {
      ev.preventDefault();
      ackError(ack);
      return;
    }
    if (!window.confirm(msg)) ev.preventDefault();
  });

  function ackError(ack) {
    // The same id the server gives the error when it re-renders the form.
    var id = ack.id.replace(/-confirm$/, "") + "-error";
    var err = document.getElementById(id);
    if (!err) {
      err = document.createElement("p");
      err.id = id;
      err.className = "field-error";
      var check = ack.closest(".check") || ack;
      check.parentNode.insertBefore(err, check.nextSibling);
    }
    err.setAttribute("role", "alert");
    err.textContent = "Tick this box first: nothing is deleted until you do.";
    ack.setAttribute("aria-invalid", "true");
    ack.setAttribute("aria-describedby", id);
    ack.focus();
    err.scrollIntoView({ block: "center" });
  }
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.name === "confirm" && t.type === "checkbox" && t.checked) t.removeAttribute("aria-invalid");
  });

  // Tables that become cards on phones label each cell with its column's
  // heading; rows added later (Live) are labelled as they come.
  function labelCells(table) {
    var heads = [];
    table.querySelectorAll("thead th").forEach(function (th) { heads.push(th.textContent.trim()); });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.cells, function (cell, i) {
        if (!cell.hasAttribute("data-label") && heads[i]) cell.setAttribute("data-label", heads[i]);
      });
    });
  }
  document.querySelectorAll("table[data-label-cells]").forEach(function (table) {
    labelCells(table);
    if (window.MutationObserver && table.tBodies[0]) {
      new MutationObserver(function () { labelCells(table); }).observe(table.tBodies[0], { childList: true });
    }
  });

  // Connection status refreshes itself: a cheap JSON poll, and only when
  // something changed is the block re-rendered by the server (fetched from
  // this same page), so the page shows events arriving without a reload.
  // Polls are marked as background requests: they neither keep the session
  // alive nor take a pending flash message.
  function watchStatus() {
    var block = document.getElementById("connection-status");
    var url = block && block.getAttribute("data-status-url");
    if (!url || !window.fetch || !window.DOMParser) return;
    var last = null;
    function fingerprint(j) {
      return JSON.stringify([j.workspaceId, j.lastAcceptedAt, j.lastHour, j.recent && j.recent.length && j.recent[0]]);
    }
    function refreshBlock() {
      return fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html", "X-Inlet-Background": "1" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("connection-status");
          var cur = document.getElementById("connection-status");
          if (fresh && cur) cur.replaceWith(document.importNode(fresh, true));
        });
    }
    function poll() {
      if (document.hidden) return;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json", "X-Inlet-Background": "1" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          if (!j) return;
          var fp = fingerprint(j);
          if (last !== null && fp !== last) refreshBlock();
          last = fp;
        })
        .catch(function () { /* offline or signed out: try again next tick */ });
    }
    poll();
    window.setInterval(poll, 5000);
  }
  watchStatus();

  // Enable buttons that only make sense with JavaScript.
  document.querySelectorAll("[data-needs-js]").forEach(function (el) {
    el.hidden = false;
  });
})();
