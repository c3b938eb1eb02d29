// The audience builder: a form for every node of the condition (all, any,
// not, trait, performed, audience) kept in step with the JSON view, which
// is what the form submits; and a live preview count while editing.
(function () {
  "use strict";
  var form = document.getElementById("audience-form");
  if (!form) return;
  var ta = document.getElementById("audience-json");
  var root = document.getElementById("builder");
  var keyIn = document.getElementById("audience-key");
  var nameIn = document.getElementById("audience-name");
  var anonIn = document.getElementById("audience-anonymous");
  var emitIn = document.getElementById("audience-emit");
  var countOut = document.getElementById("preview-count");
  var csrf = form.querySelector('input[name="csrf_token"]');
  var others = [];
  try { others = JSON.parse(root.dataset.audiences || "[]"); } catch (e) { others = []; }
  var KINDS = ["all", "any", "not", "trait", "performed", "audience"];
  var OPS = ["eq", "neq", "gt", "gte", "lt", "lte", "exists", "not_exists", "contains", "in", "starts_with", "within"];
  var COUNT_OPS = ["gte", "gt", "eq", "neq", "lt", "lte"];
  var cond;

  function kindOf(n) {
    for (var i = 0; i < KINDS.length; i++) if (n && Object.prototype.hasOwnProperty.call(n, KINDS[i])) return KINDS[i];
    return "trait";
  }
  function fresh(kind) {
    switch (kind) {
      case "all": case "any": var o = {}; o[kind] = [fresh("trait")]; return o;
      case "not": return { not: fresh("trait") };
      case "performed": return { performed: { event: "" } };
      case "audience": return { audience: others[0] || "" };
    }
    return { trait: "", op: "eq", value: "" };
  }
  // A typed value is JSON when it parses as JSON (30, true, ["a","b"]), else a string.
  function parseValue(s) {
    try { return JSON.parse(s); } catch (e) { return s; }
  }
  function showValue(v) {
    if (v === undefined) return "";
    return typeof v === "string" ? v : JSON.stringify(v);
  }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function select(cls, options, value, onchange, label) {
    var s = el("select", { "class": cls, "aria-label": label });
    options.forEach(function (o) { var op = el("option", { value: o, text: o }); if (o === value) op.selected = true; s.appendChild(op); });
    s.addEventListener("change", function () { onchange(s.value); });
    return s;
  }
  function input(cls, value, onchange, label, placeholder) {
    var i = el("input", { type: "text", "class": cls, "aria-label": label, placeholder: placeholder || "" });
    i.value = value;
    i.addEventListener("input", function () { onchange(i.value); });
    return i;
  }
  function predicate(p, pathKey, onchange, label) {
    var row = el("span", { "class": "predicate" });
    row.appendChild(input(label + "-path", p[pathKey] || "", function (v) { p[pathKey] = v; onchange(); }, label + " name", "plan or address.city"));
    row.appendChild(select(label + "-op", OPS, p.op || "eq", function (v) {
      p.op = v;
      if (v === "exists" || v === "not_exists") delete p.value; else if (p.value === undefined) p.value = "";
      onchange(true);
    }, label + " operator"));
    if (p.op !== "exists" && p.op !== "not_exists") {
      row.appendChild(input(label + "-value", showValue(p.value), function (v) { p.value = parseValue(v); onchange(); }, label + " value", "pro, 30, [\"a\",\"b\"], 7d"));
    }
    return row;
  }
  // node renders one condition; set replaces it in its parent.
  function node(n, set) {
    var kind = kindOf(n);
    var box = el("fieldset", { "class": "node node-" + kind });
    var head = select("node-kind", KINDS, kind, function (k) { set(fresh(k)); rerender(); }, "Condition type");
    box.appendChild(head);
    if (kind === "all" || kind === "any") {
      var list = el("ol", { "class": "node-children" });
      n[kind].forEach(function (c, i) {
        var li = el("li");
        li.appendChild(node(c, function (v) { n[kind][i] = v; }));
        var rm = el("button", { type: "button", "class": "secondary node-remove", text: "Remove" });
        rm.addEventListener("click", function () { if (n[kind].length > 1) { n[kind].splice(i, 1); rerender(); } });
        li.appendChild(rm);
        list.appendChild(li);
      });
      box.appendChild(list);
      var add = el("button", { type: "button", "class": "secondary node-add", text: "Add condition" });
      add.addEventListener("click", function () { n[kind].push(fresh("trait")); rerender(); });
      box.appendChild(add);
    } else if (kind === "not") {
      box.appendChild(node(n.not, function (v) { n.not = v; }));
    } else if (kind === "trait") {
      box.appendChild(predicate(n, "trait", function (re) { changed(re); }, "trait"));
    } else if (kind === "audience") {
      box.appendChild(select("audience-ref", others.length ? others : [""], n.audience, function (v) { n.audience = v; changed(); }, "Audience"));
    } else {
      var p = n.performed;
      var by = p.type ? "type" : "event";
      box.appendChild(select("performed-by", ["event", "type"], by, function (v) {
        if (v === "type") { delete p.event; p.type = "page"; } else { delete p.type; p.event = ""; }
        changed(true);
      }, "Count events by"));
      if (by === "event") {
        box.appendChild(input("performed-event", p.event || "", function (v) { p.event = v; changed(); }, "Event name", "Order Completed"));
      } else {
        box.appendChild(select("performed-type", ["page", "screen", "identify", "group"], p.type, function (v) { p.type = v; changed(); }, "Event type"));
      }
      var c = p.count || { op: "gte", value: 1 };
      box.appendChild(select("performed-count-op", COUNT_OPS, c.op, function (v) { c.op = v; p.count = c; changed(); }, "Count operator"));
      box.appendChild(input("performed-count", String(c.value), function (v) { c.value = parseInt(v, 10); p.count = c; changed(); }, "Count", "1"));
      box.appendChild(input("performed-within", p.within || "", function (v) { if (v) p.within = v; else delete p.within; changed(); }, "Within", "30d (empty: all time)"));
      var where = el("div", { "class": "performed-where" });
      (p.where || []).forEach(function (w, i) {
        where.appendChild(predicate(w, "property", function (re) { changed(re); }, "where"));
        var rm = el("button", { type: "button", "class": "secondary", text: "Remove" });
        rm.addEventListener("click", function () { p.where.splice(i, 1); if (!p.where.length) delete p.where; rerender(); });
        where.appendChild(rm);
      });
      var addw = el("button", { type: "button", "class": "secondary where-add", text: "Add property condition" });
      addw.addEventListener("click", function () { (p.where = p.where || []).push({ property: "", op: "eq", value: "" }); rerender(); });
      where.appendChild(addw);
      box.appendChild(where);
    }
    return box;
  }
  function definition() {
    return { key: keyIn.value, name: nameIn.value, includeAnonymous: anonIn.checked, emitOnBuild: emitIn.checked, condition: cond };
  }
  function changed(re) {
    ta.value = JSON.stringify(definition(), null, 2);
    if (re) rerender(); else schedulePreview();
  }
  function rerender() {
    root.replaceChildren(node(cond, function (v) { cond = v; }));
    ta.value = JSON.stringify(definition(), null, 2);
    schedulePreview();
  }
  function load() {
    var d = {};
    try { d = JSON.parse(ta.value || "{}"); } catch (e) { return false; }
    cond = d.condition || fresh("trait");
    if (d.key && !keyIn.readOnly) keyIn.value = d.key;
    if (d.name) nameIn.value = d.name;
    anonIn.checked = !!d.includeAnonymous;
    emitIn.checked = !!d.emitOnBuild;
    return true;
  }
  // A preview needs only the condition: a key or a name not typed yet is
  // left out rather than refused.
  function previewDefinition() {
    var d = definition();
    if (!d.key) delete d.key;
    if (!d.name.trim()) delete d.name;
    return d;
  }
  var timer = null;
  var seq = 0;
  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }
  function preview() {
    var mine = ++seq;
    fetch("/dashboard/audiences/preview", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf ? csrf.value : "" },
      body: JSON.stringify(previewDefinition())
    }).then(function (r) { return r.json(); }).then(function (j) {
      if (mine !== seq) return;
      countOut.textContent = j.error ? "— " + j.error : String(j.count);
      countOut.dataset.count = j.error ? "" : String(j.count);
    }).catch(function () { if (mine === seq) countOut.textContent = "unavailable"; });
  }
  [keyIn, nameIn, anonIn, emitIn].forEach(function (i) { i.addEventListener("input", function () { changed(); }); i.addEventListener("change", function () { changed(); }); });
  ta.addEventListener("change", function () { if (load()) rerender(); });
  form.addEventListener("submit", function () { ta.value = JSON.stringify(definition()); });
  load();
  rerender();
})();
