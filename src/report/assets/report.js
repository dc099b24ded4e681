// gomitm report: draws the timeline from the embedded JSON. No framework, no request to any
// address: everything is in this page. Network text is only ever set with textContent.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var LABEL_W = 330, ROW_H = 16, GROUP_H = 20, AXIS_H = 22, MIN_SPAN = 0.05;
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var rows = data.rows, phases = data.phases;
  var chart = document.getElementById("chart");
  var filterBox = document.getElementById("filter");
  var groupBy = document.getElementById("group-by");
  var shown = document.getElementById("shown");
  var detail = document.getElementById("detail");
  var full = Math.max(data.span_ms, 1);
  var view = { from: 0, to: full };
  var selected = null, focusedId = null, visible = [];
  var byId = {};
  rows.forEach(function (r) { byId[r.id] = r; });

  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmtMs(ms) {
    if (ms === 0) return "0";
    if (ms < 1) return ms.toFixed(2) + "ms";
    if (ms < 1000) return Math.round(ms) + "ms";
    return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + "s";
  }
  function fmtBytes(n) {
    var u = ["B", "KiB", "MiB", "GiB"], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + u[i];
  }
  function path(url) {
    var m = /^[a-z]+:\/\/[^\/]*(.*)$/i.exec(url);
    return m ? (m[1] || "/") : url;
  }
  function kindOf(r) { return r.go || (r.kind === "tunnel" ? "tunnel" : "other"); }
  function haystack(r) {
    return [r.url, r.host, r.method, kindOf(r), r.status || "", r.module || "", r.error || "",
      r.diagnosis ? r.diagnosis.code : "", r.failed ? "failed" : "", r.retried ? "retried" : "",
      "#" + r.id].join(" ").toLowerCase();
  }
  rows.forEach(function (r) { r._text = haystack(r); });

  function legend() {
    var box = document.getElementById("legend");
    phases.concat(["other"]).forEach(function (p) {
      var s = document.createElement("span");
      s.style.setProperty("--sw", "var(--" + p + ")");
      s.textContent = p === "other" ? "other (unattributed)" : p;
      box.appendChild(s);
    });
    var f = document.createElement("span");
    f.className = "mark-failed"; f.textContent = "failed (✕)"; box.appendChild(f);
    var r = document.createElement("span");
    r.className = "mark-retried"; r.textContent = " retried"; box.appendChild(r);
  }

  function niceStep(span, px) {
    var raw = span / Math.max(px / 110, 1), p = Math.pow(10, Math.floor(Math.log10(raw)));
    var steps = [1, 2, 5, 10], i = 0;
    while (steps[i] * p < raw) i++;
    return steps[i] * p;
  }

  function render() {
    var width = Math.max(chart.clientWidth || 1000, 600);
    var plotW = width - LABEL_W - 10;
    var span = view.to - view.from, scale = plotW / span;
    var q = filterBox.value.trim().toLowerCase();
    visible = rows.filter(function (r) { return !q || r._text.indexOf(q) >= 0; });
    var groups = [], seen = {}, byConn = groupBy.value === "connection";
    visible.forEach(function (r) {
      var key = byConn ? (r.conn !== undefined ? r.host + " · connection " + r.conn : r.host + " · no upstream connection") : r.host;
      if (!seen[key]) { seen[key] = { host: key, rows: [] }; groups.push(seen[key]); }
      seen[key].rows.push(r);
    });
    var height = AXIS_H + groups.length * GROUP_H + visible.length * ROW_H + 6;
    var svg = el("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
      role: "group", "aria-label": visible.length + " flows on one time axis" });
    var axis = el("g", { "class": "axis" });
    var step = niceStep(span, plotW);
    for (var t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
      var x = LABEL_W + (t - view.from) * scale;
      axis.appendChild(el("line", { x1: x, x2: x, y1: AXIS_H - 4, y2: height }));
      axis.appendChild(el("text", { x: x + 2, y: 13 }, fmtMs(t)));
    }
    svg.appendChild(axis);
    var y = AXIS_H, order = [];
    groups.forEach(function (g) {
      var gh = el("g", { "class": "group" });
      gh.appendChild(el("rect", { x: 0, y: y, width: width, height: GROUP_H - 2 }));
      gh.appendChild(el("text", { x: 4, y: y + 13 }, g.host + " (" + g.rows.length + ")"));
      svg.appendChild(gh);
      y += GROUP_H;
      g.rows.forEach(function (r) { svg.appendChild(bar(r, y, width, plotW, scale)); order.push(r.id); y += ROW_H; });
    });
    visible = order.map(function (id) { return byId[id]; });
    chart.replaceChildren(svg);
    shown.textContent = visible.length + " of " + rows.length + " flows" +
      (span < full ? ", showing " + fmtMs(view.from) + "–" + fmtMs(view.to) : "");
    // Roving focus: one bar is reachable with Tab, the arrows move from it.
    if (visible.length && !visible.some(function (r) { return r.id === focusedId; })) focusedId = visible[0].id;
    var f = chart.querySelector('.bar[data-id="' + focusedId + '"]');
    if (f) f.setAttribute("tabindex", "0");
  }

  function bar(r, y, width, plotW, scale) {
    var cls = "bar" + (r.failed ? " failed" : "") + (r.retried ? " retried" : "") +
      (selected === r.id ? " selected" : "");
    var label = "#" + r.id + " " + kindOf(r) + " " + (r.status || (r.error ? "ERR" : "…")) + " " + r.method + " " + path(r.url);
    var g = el("g", { "class": cls, "data-id": r.id, "data-kind": kindOf(r), tabindex: "-1",
      role: "button", "aria-label": label + ", " + fmtMs(r.ms) + (r.failed ? ", failed" : "") });
    g.appendChild(el("title", {}, label + "\n" + fmtMs(r.ms) + " from " + fmtMs(r.at_ms) +
      (r.module ? "\n" + r.module : "") + (r.diagnosis ? "\n" + r.diagnosis.code + ": " + r.diagnosis.cause : "") +
      (r.error ? "\n" + r.error : "")));
    g.appendChild(el("rect", { "class": "hit", x: 0, y: y, width: width, height: ROW_H }));
    var text = el("text", { "class": "label", x: 4, y: y + 12 }, label.length > 46 ? label.slice(0, 45) + "…" : label);
    g.appendChild(text);
    var plot = el("svg", { x: LABEL_W, y: y, width: plotW + 10, height: ROW_H, overflow: "hidden" });
    var x = (r.at_ms - view.from) * scale, x0 = x, used = 0;
    r.phases.forEach(function (ms, i) {
      if (ms === null || ms === undefined || ms <= 0) return;
      var w = Math.max(ms * scale, 0.5);
      plot.appendChild(el("rect", { "class": "ph ph-" + phases[i], "data-phase": phases[i], x: x, y: 3, width: w, height: ROW_H - 6 }));
      x += w; used += ms;
    });
    var rest = r.ms - used;
    if (rest > 0.01 || used === 0) {
      var w = Math.max(rest * scale, 1);
      plot.appendChild(el("rect", { "class": "ph ph-other", "data-phase": "other", x: x, y: 3, width: w, height: ROW_H - 6 }));
      x += w;
    }
    if (r.failed) {
      plot.appendChild(el("rect", { "class": "frame", x: x0 - 1, y: 2, width: Math.max(x - x0, 1) + 2, height: ROW_H - 4 }));
      plot.appendChild(el("text", { "class": "mark", x: x + 3, y: 12 }, "✕"));
      x += 12;
    }
    if (r.retried) plot.appendChild(el("text", { "class": "retry", x: x + 3, y: 12 }, "↻"));
    g.appendChild(plot);
    return g;
  }

  function show(r) {
    selected = r.id;
    chart.querySelectorAll(".bar.selected").forEach(function (b) { b.classList.remove("selected"); });
    var b = chart.querySelector('.bar[data-id="' + r.id + '"]');
    if (b) b.classList.add("selected");
    var dl = document.createElement("dl");
    function item(k, v, bad) {
      if (v === null || v === undefined || v === "") return;
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = k; dd.textContent = v; if (bad) dd.className = "bad";
      dl.appendChild(dt); dl.appendChild(dd);
    }
    item("flow", "#" + r.id + (r.failed ? " (failed)" : ""), r.failed);
    item("URL", r.method + " " + r.url);
    item("status", r.status ? String(r.status) : (r.error ? "no response" : "none"), r.failed);
    item("error", r.error, true);
    item("Go kind", kindOf(r));
    item("module", r.module);
    item("sizes", "sent " + fmtBytes(r.req_bytes) + ", received " + fmtBytes(r.resp_bytes));
    item("start", "+" + fmtMs(r.at_ms) + ", took " + fmtMs(r.ms));
    item("timings", r.phases.map(function (ms, i) { return ms === null ? null : phases[i] + " " + fmtMs(ms); })
      .filter(function (s) { return s; }).join(", ") || "none recorded");
    item("connection", r.conn !== undefined ? "upstream connection " + r.conn : null);
    item("retried", r.retried);
    if (r.diagnosis) {
      item("diagnosis", r.diagnosis.severity + " " + r.diagnosis.code + ": " + r.diagnosis.cause, r.diagnosis.severity === "error");
      item("fix", r.diagnosis.fix);
    }
    var close = document.createElement("button");
    close.type = "button"; close.className = "close"; close.textContent = "close (Esc)";
    close.addEventListener("click", hide);
    var h = document.createElement("h3");
    h.textContent = "Flow #" + r.id;
    detail.replaceChildren(close, h, dl);
    detail.hidden = false;
  }
  function hide() {
    detail.hidden = true; selected = null;
    chart.querySelectorAll(".bar.selected").forEach(function (b) { b.classList.remove("selected"); });
  }

  function focusBar(id) {
    var prev = chart.querySelector('.bar[tabindex="0"]');
    if (prev) prev.setAttribute("tabindex", "-1");
    var b = chart.querySelector('.bar[data-id="' + id + '"]');
    if (!b) return;
    focusedId = id;
    b.setAttribute("tabindex", "0");
    b.focus({ preventScroll: true });
    b.scrollIntoView({ block: "nearest" });
  }

  function zoom(factor, atMs) {
    var span = view.to - view.from;
    if (atMs === undefined) atMs = view.from + span / 2;
    var next = Math.min(Math.max(span * factor, MIN_SPAN), full);
    var from = atMs - (atMs - view.from) * (next / span);
    setView(from, from + next);
  }
  function pan(ms) { setView(view.from + ms, view.to + ms); }
  function setView(from, to) {
    var span = to - from;
    if (from < 0) { from = 0; to = span; }
    if (to > full) { to = full; from = Math.max(full - span, 0); }
    view.from = from; view.to = to;
    render();
  }
  function msAt(clientX) {
    var rect = chart.getBoundingClientRect(), plotW = Math.max(chart.clientWidth, 600) - LABEL_W - 10;
    return view.from + (clientX - rect.left - LABEL_W) / plotW * (view.to - view.from);
  }

  var drag = null;
  chart.addEventListener("mousedown", function (e) {
    drag = { x: e.clientX, from: view.from, to: view.to, moved: false };
  });
  window.addEventListener("mousemove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x;
    if (Math.abs(dx) > 3) { drag.moved = true; chart.classList.add("dragging"); }
    if (drag.moved) {
      var plotW = Math.max(chart.clientWidth, 600) - LABEL_W - 10;
      var ms = -dx / plotW * (drag.to - drag.from);
      setView(drag.from + ms, drag.to + ms);
    }
  });
  window.addEventListener("mouseup", function () { chart.classList.remove("dragging"); setTimeout(function () { drag = null; }, 0); });
  chart.addEventListener("click", function (e) {
    if (drag && drag.moved) return;
    var b = e.target.closest && e.target.closest(".bar");
    if (!b) return;
    var r = byId[b.getAttribute("data-id")];
    if (r) { focusBar(r.id); show(r); }
  });
  chart.addEventListener("wheel", function (e) {
    if (e.ctrlKey || e.metaKey) { e.preventDefault(); zoom(e.deltaY > 0 ? 1.25 : 0.8, msAt(e.clientX)); }
    else if (e.shiftKey) { e.preventDefault(); pan((e.deltaY || e.deltaX) / 500 * (view.to - view.from)); }
  }, { passive: false });
  chart.addEventListener("keydown", function (e) {
    var span = view.to - view.from;
    var i = visible.findIndex(function (r) { return r.id === focusedId; });
    switch (e.key) {
      case "ArrowDown": if (visible.length) focusBar(visible[Math.min(i + 1, visible.length - 1)].id); break;
      case "ArrowUp": if (visible.length) focusBar(visible[Math.max(i - 1, 0)].id); break;
      case "Home": if (visible.length) focusBar(visible[0].id); break;
      case "End": if (visible.length) focusBar(visible[visible.length - 1].id); break;
      case "ArrowLeft": pan(-span / 5); break;
      case "ArrowRight": pan(span / 5); break;
      case "+": case "=": zoom(0.5); break;
      case "-": case "_": zoom(2); break;
      case "0": setView(0, full); break;
      case "Enter": case " ": if (i >= 0) show(visible[i]); break;
      case "Escape": hide(); break;
      default: return;
    }
    e.preventDefault();
    if (focusedId !== null && e.key.indexOf("Arrow") !== 0) focusBar(focusedId);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== filterBox) { e.preventDefault(); filterBox.focus(); }
    else if (e.key === "Escape" && !detail.hidden) hide();
  });
  filterBox.addEventListener("input", render);
  groupBy.addEventListener("change", render);
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(0.5); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(2); });
  document.getElementById("zoom-reset").addEventListener("click", function () { setView(0, full); });
  document.querySelectorAll("button.flow-link").forEach(function (b) {
    b.addEventListener("click", function () {
      var r = byId[b.getAttribute("data-flow")];
      if (!r) return;
      if (r._text.indexOf(filterBox.value.trim().toLowerCase()) < 0) { filterBox.value = ""; }
      setView(0, full);
      focusBar(r.id); show(r);
      chart.scrollIntoView({ block: "center" });
    });
  });
  var resizeTimer = null;
  window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(render, 100); });
  legend();
  render();
})();
