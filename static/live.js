// Live mode of the events page: a server-sent events stream of the events
// committed from now on, with the page's filter. EventSource reconnects by
// itself (after a server restart too) and sends the last id back, so the
// stream resumes where it was. The table keeps at most data-live-max rows.
(function () {
  "use strict";

  var section = document.getElementById("live");
  if (!section || typeof window.EventSource !== "function") return;
  var toggle = document.getElementById("live-toggle");
  var status = document.getElementById("live-status");
  var skippedNote = document.getElementById("live-skipped");
  var wrap = document.getElementById("live-wrap");
  var tbody = section.querySelector("#live-events tbody");
  var max = parseInt(section.getAttribute("data-live-max"), 10) || 200;
  var source = null;

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text; // text, never markup
    tr.appendChild(td);
    return td;
  }

  function addRow(e) {
    var tr = document.createElement("tr");
    tr.className = "live-row";
    tr.setAttribute("data-message-id", e.messageId);
    var when = cell(tr, "");
    var time = document.createElement("time");
    time.setAttribute("datetime", e.receivedAt);
    time.textContent = e.received;
    when.appendChild(time);
    var type = cell(tr, e.type, "event-type");
    if (e.test) {
      var badge = document.createElement("span");
      badge.className = "badge test-event";
      badge.textContent = "test";
      type.appendChild(document.createTextNode(" "));
      type.appendChild(badge);
    }
    cell(tr, e.event, "event-name");
    cell(tr, e.userId || (e.anonymousId ? "anonymous: " + e.anonymousId : ""), "event-user");
    cell(tr, e.source, "event-source");
    tbody.insertBefore(tr, tbody.firstChild);
    var dropped = 0;
    while (tbody.rows.length > max) { tbody.deleteRow(tbody.rows.length - 1); dropped++; }
    return dropped;
  }

  // After a flood the server sends only the newest events and says how
  // many it jumped over; rows pushed out of the table count as not shown too.
  function noteSkipped(skipped, more, dropped) {
    var n = skipped + dropped;
    skippedNote.textContent = n.toLocaleString("en-US") + (more ? "+" : "") + " more arrived; showing the newest " +
      max.toLocaleString("en-US") + ".";
  }

  function start() {
    source = new EventSource(section.getAttribute("data-live-url"));
    status.textContent = "Connecting…";
    // Live only once the server has taken its start: "open" comes earlier.
    source.addEventListener("following", function () { status.textContent = "Live: showing events as they arrive."; });
    source.onerror = function () { status.textContent = "Connection lost, reconnecting…"; };
    source.addEventListener("events", function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (err) { return; }
      var dropped = 0;
      (data.events || []).forEach(function (e) { dropped += addRow(e); });
      if (data.skipped > 0) noteSkipped(data.skipped, data.skippedMore, dropped);
    });
    wrap.hidden = false;
    toggle.setAttribute("aria-pressed", "true");
    toggle.textContent = "Stop live";
  }

  function stop() {
    if (source) source.close();
    source = null;
    status.textContent = "";
    skippedNote.textContent = "";
    toggle.setAttribute("aria-pressed", "false");
    toggle.textContent = "Live";
  }

  toggle.addEventListener("click", function () {
    if (source) stop(); else start();
  });
})();
