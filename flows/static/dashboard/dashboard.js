(function () {
"use strict";
const D = JSON.parse(document.getElementById("runlift-data").textContent);
const DIST = D.units.distance, MASS = D.units.mass;
const COL = { run: "#0072B2", strength: "#D55E00", impact: "#86b4de", runDay: "rgba(0,114,178,0.22)",
              strengthDay: "rgba(213,94,0,0.30)", imputed: "#1d2330", acute: "#E69F00", chronic: "#0072B2",
              acwr: "#6a3d9a", fitness: "#0072B2", fatigue: "#D55E00", form: "#009E73",
              lower: "#0072B2", upper: "#E69F00", core: "#009E73", ratio: "#1d2330" };
const FONT = "11px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif";
const LABEL_FONT = "600 12px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif";
const DAY = 86400, WEEK = 7 * DAY;
const MONTHS = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"];
const WEEKDAYS = ["Sun","Mon","Tue","Wed","Thu","Fri","Sat"];
const plots = [];

document.getElementById("uplot-version").textContent = D.uplot_version || "";

// ---- helpers -------------------------------------------------------------------------------------
const ts = (iso) => { const [y, m, d] = iso.split("-").map(Number); return Date.UTC(y, m - 1, d) / 1000; };
const utc = (t) => new Date(t * 1000);
const fmtDay = (t, year) => { const d = utc(t); return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + (year ? " " + d.getUTCFullYear() : ""); };
const fmtLong = (iso) => { const t = ts(iso); return WEEKDAYS[utc(t).getUTCDay()] + " " + fmtDay(t, true); };
const fix = (v, n) => (v == null || !isFinite(v)) ? "–" : Number(v).toLocaleString("en-US", { minimumFractionDigits: n, maximumFractionDigits: n });
const withUnit = (v, n, unit) => v == null ? "–" : fix(v, n) + (unit ? " " + unit : "");
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; };
const anyValue = (arrs, pred) => arrs.some((a) => a.some((v) => v != null && pred(v)));
const nonNull = (arrs) => arrs.reduce((n, a) => n + a.filter((v) => v != null).length, 0);

function axisSize(self, values, axisIdx, cycleNum) {
  const axis = self.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap;
  const longest = (values || []).reduce((acc, v) => (v != null && String(v).length > acc.length ? String(v) : acc), "");
  if (longest !== "") { self.ctx.font = axis.font[0]; size += self.ctx.measureText(longest).width / uPlot.pxRatio; }
  return Math.ceil(size) + 2;
}

function xAxis(label) {
  return { label: label, labelFont: LABEL_FONT, labelSize: 18, font: FONT, size: 30, gap: 3, stroke: "#5b6475",
           grid: { stroke: "#eef0f3", width: 1 }, ticks: { stroke: "#d5d9e0", width: 1, size: 4 },
           values: (u, splits) => { const span = u.scales.x.max - u.scales.x.min;
             return splits.map((t) => t == null ? null : (span > 300 * DAY
               ? MONTHS[utc(t).getUTCMonth()] + " '" + String(utc(t).getUTCFullYear()).slice(2) : fmtDay(t, false))); } };
}

// weekly charts: ticks on week starts only, anchored on the latest week, at least ~64 px apart
function weekSplits(u, axisIdx, min, max) {
  const xs = u.data[0].filter((t) => t >= min && t <= max);
  const px = u.bbox.width / uPlot.pxRatio;
  const k = Math.max(1, Math.ceil(xs.length * 64 / Math.max(px, 1)));
  return xs.filter((_, i) => (xs.length - 1 - i) % k === 0);
}

function yAxis(label, scale, opts) {
  return Object.assign({ scale: scale, label: label, labelFont: LABEL_FONT, labelSize: 18, labelGap: 0, font: FONT,
                         size: axisSize, gap: 4, stroke: "#5b6475", grid: { stroke: "#eef0f3", width: 1 },
                         ticks: { stroke: "#d5d9e0", width: 1, size: 4 } }, opts || {});
}

function xRange(step) {
  return (u, min, max) => (min == null ? [0, 1] : [min - step * 0.6, max + step * 0.6]);
}

const bars = (opts) => uPlot.paths.bars(Object.assign({ size: [0.7, 48], gap: 1 }, opts || {}));

// ref lines / bands on a y scale, drawn under the series
function refPlugin(items) {
  return { hooks: { drawClear: [(u) => {
    const ctx = u.ctx, b = u.bbox;
    ctx.save();
    ctx.beginPath(); ctx.rect(b.left, b.top, b.width, b.height); ctx.clip();
    for (const it of items) {
      const y0 = u.valToPos(it.from, it.scale, true);
      if (it.to != null) {
        const y1 = u.valToPos(it.to, it.scale, true);
        ctx.fillStyle = it.fill; ctx.fillRect(b.left, Math.min(y0, y1), b.width, Math.abs(y1 - y0));
      } else {
        ctx.strokeStyle = it.stroke; ctx.lineWidth = uPlot.pxRatio; ctx.setLineDash([5 * uPlot.pxRatio, 4 * uPlot.pxRatio]);
        ctx.beginPath(); ctx.moveTo(b.left, y0); ctx.lineTo(b.left + b.width, y0); ctx.stroke(); ctx.setLineDash([]);
      }
    }
    ctx.restore();
  }] } };
}

function heightFor(width, name) {
  const h = Math.max(230, Math.min(320, width * 0.62));
  return Math.round(name === "acwr" ? Math.max(175, h * 0.8) : h);  // the ratio is secondary
}

// ---- state ---------------------------------------------------------------------------------------
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const ids = D.athletes.map((a) => a.id);
  const athlete = ids.includes(p.get("athlete")) ? p.get("athlete") : (D.default_athlete || ids[0] || null);
  const w = Number(p.get("weeks"));
  const weeks = D.periods.includes(w) && p.has("weeks") ? w : D.default_period;
  return { athlete: athlete, weeks: weeks };
}
let state = readHash();

function writeHash() {
  const p = new URLSearchParams({ athlete: state.athlete || "", weeks: String(state.weeks) });
  try { history.replaceState(null, "", "#" + p.toString()); } catch (e) { /* file:// in some browsers */ }
}

// ---- the period's slice of an athlete's data ------------------------------------------------------
// The period ends at the athlete's latest data (the day before a break that lasts to the as-of date,
// else the as-of date), not at today: a history that ended long ago still shows its last weeks.
function slice(a, weeks) {
  const W = a.weekly, Dd = a.daily;
  const n = W.week.length;
  const end = a.latest_data_date ? ts(a.latest_data_date) : null;
  const endWeek = end == null ? null : end - ((utc(end).getUTCDay() + 6) % 7) * DAY;  // its Monday
  let cutoff = null;
  if (weeks > 0 && endWeek != null) cutoff = endWeek - (weeks - 1) * WEEK;
  const inside = (t) => (cutoff == null || t >= cutoff) && (end == null || t <= end);
  const wi = [], di = [];
  for (let i = 0; i < n; i++) if (inside(ts(W.week[i]))) wi.push(i);
  for (let i = 0; i < Dd.date.length; i++) if (inside(ts(Dd.date[i]))) di.push(i);
  const pick = (obj, idx) => { const o = {}; for (const k in obj) o[k] = idx.map((i) => obj[k][i]); return o; };
  const w = pick(W, wi), d = pick(Dd, di);
  w.t = (w.week || []).map(ts); d.t = (d.date || []).map(ts);
  const flags = a.flags.filter((f) => cutoff == null || ts(f.date) >= cutoff);
  const first = d.date && d.date.length ? d.date[0] : null, last = d.date && d.date.length ? d.date[d.date.length - 1] : null;
  return { w: w, d: d, flags: flags, first: first, last: last };
}

// the share of a period's session load whose effort was imputed, weighted by each week's load
function imputedShare(w) {
  let load = 0, imputed = 0;
  (w.total_load || []).forEach((v, i) => { if (v != null && w.imputed_share[i] != null) { load += v; imputed += v * w.imputed_share[i] / 100; } });
  return load > 0 ? 100 * imputed / load : null;
}

// ---- what should I do this week? ----------------------------------------------------------------
function renderPlan(a) {
  const list = document.getElementById("verdict"), note = document.getElementById("plan-note");
  const sub = document.getElementById("plan-week");
  list.replaceChildren(); note.hidden = true;
  const plan = a && a.plan;
  if (!plan) { sub.textContent = a ? "No workouts yet for " + a.id + ": nothing to go on." : "No athletes in the published file yet."; return; }
  sub.textContent = plan.title;
  for (const line of plan.lines) { const li = el("li", null, line.text); li.dataset.key = line.key; list.appendChild(li); }
  if (plan.note) { note.textContent = plan.note; note.hidden = false; }
}

// ---- the latest week -----------------------------------------------------------------------------
function renderLatest(a) {
  const W = a.weekly, n = W.week.length, tiles = document.getElementById("tiles");
  tiles.replaceChildren();
  const sub = document.getElementById("latest-week");
  if (!n) { sub.textContent = "No workouts yet for " + a.id + "."; tiles.appendChild(el("p", "no-data wide", "no data")); return; }
  // the week of the latest data (a break that lasts to the as-of date has no numbers to show)
  let i = n - 1;
  if (a.latest_data_date) while (i > 0 && ts(W.week[i]) > ts(a.latest_data_date)) i--;
  const p = i > 0 ? i - 1 : null;
  const start = W.week[i], days = W.days[i];
  sub.textContent = "Week of " + fmtLong(start) + (days < 7 ? " (" + days + " of 7 days so far)" : "") +
                    (p != null ? "; smaller figures: the week before." : ".");
  const wStart = ts(start), wEnd = wStart + 6 * DAY;
  const weekFlags = a.flags.filter((f) => { const t = ts(f.date); return t >= wStart && t <= wEnd; });
  const warnings = weekFlags.filter((f) => f.severity === "warning" || f.severity === "alert").length;
  const items = [
    ["run_distance", "Running distance", (k) => withUnit(W.run_distance[k], 1, DIST)],
    ["runs", "Runs", (k) => fix(W.runs[k], 0)],
    ["longest_run", "Longest run", (k) => withUnit(W.longest_run[k], 1, DIST)],
    ["gym_sessions", "Gym sessions", (k) => fix(W.gym_sessions[k], 0)],
    ["volume_load", "Volume load", (k) => withUnit(W.volume_load[k], 0, MASS)],
    ["strength_share", "Strength share of session load", (k) => withUnit(W.strength_share[k], 0, "%")],
    ["impact", "Impact load", (k) => withUnit(W.impact[k], 0, "kBW")],
    ["flags", "Flags", (k) => fix(W.flags[k], 0)],
  ];
  for (const [key, label, f] of items) {
    const t = el("div", "tile"); t.dataset.key = key;
    t.appendChild(el("div", "label", label));
    t.appendChild(el("div", "value", f(i)));
    if (key === "flags") {
      if (warnings) t.classList.add("warn");
      t.appendChild(el("div", "prev", weekFlags.length ? (warnings + " warning, " + (weekFlags.length - warnings) + " info") : "none this week"));
    } else if (p != null) {
      t.appendChild(el("div", "prev", f(p)));
    }
    if (key === "strength_share" && W.imputed_share[i] != null) t.appendChild(el("div", "prev imputed", "imputed: " + fix(W.imputed_share[i], 0) + " %"));
    tiles.appendChild(t);
  }
}

// ---- this block against the previous one ---------------------------------------------------------
const MUSCLE_SHORT = { quadriceps: "Quads", hamstrings_knee_flexion: "Hams (curl)", hamstrings_hip_hinge: "Hams (hinge)",
                       glutes: "Glutes", calves: "Calves", hip_stability: "Hip stability", core: "Core",
                       upper_push: "Push", upper_pull: "Pull" };
function renderBlocks(a) {
  const box = document.getElementById("blocks-table"), sub = document.getElementById("blocks-sub");
  const muscles = document.getElementById("blocks-muscles"), weakest = document.getElementById("blocks-weakest");
  box.replaceChildren(); muscles.replaceChildren(); weakest.hidden = true;
  const B = a && a.blocks;
  if (!B || !B.current) { sub.textContent = "No training block yet."; return; }
  const cur = B.current, prev = B.previous;
  const span = (b) => b.name + " (" + b.days + " days" + (b.complete ? "" : " so far") + ")";
  sub.textContent = "This block: " + span(cur) + (cur.race ? ", goal race " + cur.race : "") + "; " +
                    (prev ? "previous: " + span(prev) + "." : "no block before it.");
  sub.dataset.current = cur.name; sub.dataset.previous = prev ? prev.name : "";
  const rows = [
    ["weekly_run_distance", "Running / week", (b) => withUnit(b.weekly_run_distance, 1, DIST)],
    ["long_runs", "Long runs (" + fix(B.long_run_distance, 0) + " " + DIST + "+)", (b) => fix(b.long_runs, 0)],
    ["impact", "Impact / week", (b) => withUnit(b.impact, 0, "kBW")],
  ];
  const t = el("table", "blocks"), head = el("tr");
  for (const [cls, text] of [[null, ""], ["prev", "Previous"], ["cur", "This block"]]) head.appendChild(el("th", cls, text));
  const thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
  const body = el("tbody");
  for (const [key, label, f] of rows) {
    const tr = el("tr"); tr.dataset.key = key;
    tr.appendChild(el("th", null, label));
    tr.appendChild(el("td", "prev", prev ? f(prev) : "–"));
    tr.appendChild(el("td", "cur", f(cur)));
    body.appendChild(tr);
  }
  t.appendChild(body); box.appendChild(t);
  cur.hard_sets.forEach((g, k) => {
    const cell = el("div", "muscle"); cell.dataset.key = "hard_sets_" + g[0]; cell.title = g[1];
    if (cur.weakest && cur.weakest.group === g[0]) cell.classList.add("weakest");
    cell.appendChild(el("div", "label", MUSCLE_SHORT[g[0]] || g[1]));
    const v = el("div", "value");
    v.appendChild(el("span", "prev", prev ? fix(prev.hard_sets[k][2], 1) : "–"));
    v.appendChild(document.createTextNode(" → "));
    v.appendChild(el("span", "cur", fix(g[2], 1)));
    cell.appendChild(v);
    muscles.appendChild(cell);
  });
  if (cur.weakest) {
    const w = cur.weakest;
    weakest.textContent = "Weakest: " + (MUSCLE_SHORT[w.group] || w.label) + ", " + fix(w.per_week, 1) + " sets/wk (usual " + w.low + "–" + w.high + ")";
    weakest.title = w.label;
    weakest.hidden = false;
  } else if (cur.strength_sessions === 0) {
    weakest.textContent = "No strength session in this block.";
    weakest.hidden = false;
  }
}

// ---- charts --------------------------------------------------------------------------------------
function seriesLine(label, color, scale, unit, digits, extra) {
  return Object.assign({ label: label, scale: scale, stroke: color, width: 2, spanGaps: false,
                         points: { show: false }, value: (u, v) => withUnit(v, digits, unit) }, extra || {});
}
function seriesBars(label, color, scale, unit, digits, extra) {
  return Object.assign({ label: label, scale: scale, stroke: color, fill: color, width: 0, paths: bars(),
                         points: { show: false }, value: (u, v) => withUnit(v, digits, unit) }, extra || {});
}

const CHARTS = {
  volume: (s) => {
    const w = s.w;
    const runs = anyValue([w.run_distance || []], (v) => v > 0), lifts = anyValue([w.volume_load || []], (v) => v > 0);
    if (!runs && !lifts) return null;
    const cfg = {
      data: [w.t], series: [{ label: "Week of", value: (u, t) => t == null ? "–" : fmtDay(t, true) }],
      scales: { x: { time: true, range: xRange(WEEK) } },
      axes: [Object.assign(xAxis("Week (starting Monday)"), { splits: weekSplits })],
    };
    const both = runs && lifts, size = both ? [0.38, 22] : [0.7, 44];
    if (runs) {
      cfg.data.push(w.run_distance);
      cfg.series.push(seriesBars("Running", COL.run, "dist", DIST, 1, { paths: bars({ align: both ? -1 : 0, size: size }) }));
      cfg.scales.dist = { range: (u, mn, mx) => [0, Math.max(1, mx) * 1.08] };
      cfg.axes.push(yAxis("Running distance (" + DIST + ")", "dist", { stroke: COL.run, shortLabel: "Distance (" + DIST + ")" }));
    }
    if (lifts) {
      cfg.data.push(w.volume_load);
      cfg.series.push(seriesBars("Volume load", COL.strength, "mass", MASS, 0, { paths: bars({ align: both ? 1 : 0, size: size }) }));
      cfg.scales.mass = { range: (u, mn, mx) => [0, Math.max(1, mx) * 1.08] };
      cfg.axes.push(yAxis("Volume load (" + MASS + ")", "mass", runs ? { side: 1, stroke: COL.strength, grid: { show: false }, shortLabel: "Volume (" + MASS + ")" } : { stroke: COL.strength }));
    }
    if (!runs) cfg.message = "No running in this period.";
    if (!lifts) cfg.message = "No strength volume in this period.";
    return cfg;
  },
  share: (s) => {
    const w = s.w;
    const str = w.strength_share || [];
    if (!anyValue([str], () => true)) return null;
    const full = str.map((v) => v == null ? null : 100);
    return {
      data: [w.t, full, str, w.imputed_share || str.map(() => null)],
      series: [{ label: "Week of", value: (u, t) => t == null ? "–" : fmtDay(t, true) },
        seriesBars("Running", COL.run, "pct", "%", 0, { value: (u, v, si, i) => (i == null || str[i] == null) ? "–" : fix(100 - str[i], 0) + " %" }),
        seriesBars("Strength", COL.strength, "pct", "%", 0),
        seriesLine("Imputed", COL.imputed, "pct", "%", 0, { width: 1.5, dash: [4, 3], points: { show: true, size: 5 } })],
      scales: { x: { time: true, range: xRange(WEEK) }, pct: { range: [0, 100] } },
      axes: [Object.assign(xAxis("Week (starting Monday)"), { splits: weekSplits }), yAxis("Share of session load (%)", "pct", { splits: () => [0, 25, 50, 75, 100], shortLabel: "Share (%)" })],
      plugins: [refPlugin([{ scale: "pct", from: 50, stroke: "rgba(255,255,255,0.9)" }])],
    };
  },
  impact: (s) => {
    const d = s.d;
    const run = [d.run_7d || [], d.run_28d || []], knee = [d.knee_7d || [], d.knee_28d || []];
    const runs = anyValue(run.concat([d.run_impact || []]), (v) => v > 0);
    const lifts = anyValue(knee.concat([d.knee_load || []]), (v) => v > 0);
    if (!runs && !lifts) return null;
    const dashed = [6, 4];
    const top = (arrs) => Math.max(0.1, ...arrs.map((a) => a.reduce((m, v) => (v != null && v > m ? v : m), 0)));
    // each source on its own scale, so a small strength knee load stays visible next to running; the
    // lines set each scale, and a day far above them is cut at the top (its value is in the legend)
    const cfg = {
      data: [d.t], series: [{ label: "Day", value: (u, t) => t == null ? "–" : fmtDay(t, true) }],
      scales: { x: { time: true, range: xRange(DAY) } }, axes: [xAxis("Day")],
      cursor: { sync: { key: "runlift-daily" } },
    };
    const source = (values, avg7, avg28, name, color, dayColor, scale, label, shortLabel, side) => {
      const digits = top([avg7, avg28]) < 1 ? 2 : 1;
      cfg.data.push(values, avg7, avg28);
      cfg.series.push(seriesBars(name + " day", dayColor, scale, "kBW", digits, { paths: bars({ size: [0.8, 14], align: runs && lifts ? (side ? 1 : -1) : 0 }) }),
                      seriesLine(name + " 7 d", color, scale, "kBW", digits, { width: 2.5 }),
                      seriesLine(name + " 28 d", color, scale, "kBW", digits, { dash: dashed }));
      const hi = top([avg7, avg28]) > 0.1 ? top([avg7, avg28]) * 2.2 : top([values]) * 1.05;
      cfg.scales[scale] = { range: () => [0, hi] };
      cfg.axes.push(yAxis(label, scale, Object.assign({ stroke: color, shortLabel: shortLabel },
                                                      side ? { side: 1, grid: { show: false } } : {})));
    };
    if (runs) source(d.run_impact, d.run_7d, d.run_28d, "Run", COL.run, COL.runDay, "run", "Running impact (kBW)", "Running (kBW)", 0);
    if (lifts) source(d.knee_load, d.knee_7d, d.knee_28d, "Strength", COL.strength, COL.strengthDay, "knee", "Strength knee load (kBW)", "Strength (kBW)", runs ? 1 : 0);
    if (!runs) cfg.message = "No running in this period.";
    if (!lifts) cfg.message = "No strength knee load in this period.";
    return cfg;
  },
  acwr: (s) => {
    const d = s.d;
    if (!anyValue([d.acwr || []], () => true)) return null;
    return {
      data: [d.t, d.acwr],
      series: [{ label: "Day", value: (u, t) => t == null ? "–" : fmtDay(t, true) },
        seriesLine("ACWR", COL.acwr, "ratio", "", 2)],
      scales: { x: { time: true, range: xRange(DAY) },
                ratio: { range: (u, mn, mx) => [0, Math.max(2, (mx || 0) * 1.1)] } },
      axes: [xAxis("Day"), yAxis("Acute : chronic (ratio)", "ratio", { shortLabel: "ACWR" })],
      plugins: [refPlugin([{ scale: "ratio", from: 0.8, to: 1.5, fill: "rgba(0,158,115,0.14)" },
                           { scale: "ratio", from: 1, stroke: "rgba(0,0,0,0.25)" }])],
      cursor: { sync: { key: "runlift-daily" } },
    };
  },
  pmc: (s) => {
    const d = s.d;
    if (!anyValue([d.fitness || [], d.fatigue || []], (v) => v > 0)) return null;
    return {
      data: [d.t, d.fitness, d.fatigue, d.form],
      series: [{ label: "Day", value: (u, t) => t == null ? "–" : fmtDay(t, true) },
        seriesLine("Fitness", COL.fitness, "au", "AU", 0),
        seriesLine("Fatigue", COL.fatigue, "au", "AU", 0),
        seriesLine("Form", COL.form, "au", "AU", 0, { fill: "rgba(0,158,115,0.12)", width: 1.5 })],
      scales: { x: { time: true, range: xRange(DAY) }, au: { range: (u, mn, mx) => [Math.min(0, mn) * 1.1, Math.max(1, mx) * 1.08] } },
      axes: [xAxis("Day"), yAxis("Training load (AU)", "au", { shortLabel: "Load (AU)" })],
      plugins: [refPlugin([{ scale: "au", from: 0, stroke: "rgba(0,0,0,0.3)" }])],
      cursor: { sync: { key: "runlift-daily" } },
    };
  },
  sets: (s) => {
    const w = s.w;
    const lo = w.hard_lower || [], up = w.hard_upper || [], co = w.hard_core || [], pa = w.pa_ratio || [];
    if (!anyValue([lo, up, co], (v) => v > 0) && !anyValue([pa], () => true)) return null;
    const s1 = lo.map((v, i) => v + up[i]), s2 = s1.map((v, i) => v + co[i]);
    const raw = (arr) => (u, v, si, i) => (i == null ? "–" : fix(arr[i], 0));
    return {
      // drawn back to front: core on top of upper on top of lower (stacked by drawing totals)
      data: [w.t, s2, s1, lo, pa],
      series: [{ label: "Week of", value: (u, t) => t == null ? "–" : fmtDay(t, true) },
        seriesBars("Core", COL.core, "sets", "", 0, { value: raw(co) }),
        seriesBars("Upper", COL.upper, "sets", "", 0, { value: raw(up) }),
        seriesBars("Lower", COL.lower, "sets", "", 0, { value: raw(lo) }),
        seriesLine("Post:ant (4 wk)", COL.ratio, "ratio", "", 2, { points: { show: true, size: 5 } })],
      scales: { x: { time: true, range: xRange(WEEK) }, sets: { range: (u, mn, mx) => [0, Math.max(4, mx) * 1.08] },
                ratio: { range: (u, mn, mx) => [0, Math.max(1.5, (mx || 0) * 1.1)] } },
      axes: [Object.assign(xAxis("Week (starting Monday)"), { splits: weekSplits }), yAxis("Hard sets (sets/week)", "sets", { shortLabel: "Hard sets" }),
             yAxis("Posterior : anterior (ratio)", "ratio", { side: 1, grid: { show: false }, shortLabel: "Post : ant" })],
      plugins: [refPlugin([{ scale: "ratio", from: 0.5, stroke: "rgba(29,35,48,0.35)" }])],
    };
  },
};

function destroyPlots() {
  while (plots.length) { const p = plots.pop(); p.u.destroy(); }
}

function drawChart(name, s) {
  const box = document.getElementById("chart-" + name);
  box.replaceChildren();
  box.dataset.points = "0";
  box.dataset.drawn = "0";
  const cfg = CHARTS[name](s);
  if (!cfg) {
    box.appendChild(el("p", "no-data", "no data"));
    box.dataset.drawn = "empty";
    return;
  }
  const width = Math.max(200, box.clientWidth), height = heightFor(width, name);
  const points = nonNull(cfg.data.slice(1));
  // an axis title longer than the plot is tall would be cut: use its short form
  const measure = document.createElement("canvas").getContext("2d"); measure.font = LABEL_FONT;
  for (const ax of cfg.axes) {
    // a left title may use the padding around the plot (height - 58); a right one was cut there
    const room = height - (ax.side === 1 ? 58 : 40);
    if (ax.shortLabel && measure.measureText(ax.label).width > room) ax.label = ax.shortLabel;
    delete ax.shortLabel;
  }
  const opts = Object.assign({
    // without a right axis, room on the right for the last x tick's label (it was cut at 390 px)
    width: width, height: height, padding: [10, cfg.axes.some((ax) => ax.side === 1) ? 6 : 18, 0, 2],
    legend: { live: true },
    cursor: { points: { size: 6 } },
    hooks: { draw: [() => { box.dataset.points = String(points); box.dataset.drawn = "1"; }],
             // before any hover, the legend shows the latest values
             ready: [(u) => { if (u.data[0].length) u.setLegend({ idx: u.data[0].length - 1 }); }] },
  }, cfg);
  if (cfg.cursor) opts.cursor = Object.assign({ points: { size: 6 } }, cfg.cursor);
  delete opts.data; delete opts.message;
  const u = new uPlot(opts, cfg.data, box);
  if (cfg.message) box.appendChild(el("p", "chart-msg", cfg.message));
  box.dataset.axes = JSON.stringify(cfg.axes.map((ax) => ax.label || ""));  // titles are drawn on the canvas
  plots.push({ u: u, box: box });
}

function flagRows(list) {
  const table = el("table", "flags"), head = el("tr");
  for (const h of ["Date", "Severity", "Explanation"]) head.appendChild(el("th", null, h));
  const thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
  const body = el("tbody");
  for (const f of list) {
    const tr = el("tr"); tr.dataset.flag = f.flag;
    tr.appendChild(el("td", "date", f.date));
    const sev = el("td"); sev.appendChild(el("span", "badge " + f.severity, f.severity)); tr.appendChild(sev);
    tr.appendChild(el("td", "expl", f.explanation));
    body.appendChild(tr);
  }
  table.appendChild(body);
  return table;
}

// the flags of the last 14 days (to the as-of date) beside the verdict; older ones of the period folded away
function renderFlags(a, s) {
  const recentBox = document.getElementById("recent-flags"), box = document.getElementById("flags");
  recentBox.replaceChildren(); box.replaceChildren();
  const asOf = a && (a.plan ? a.plan.as_of : a.as_of_date);
  const since = asOf ? ts(asOf) - (D.recent_flag_days - 1) * DAY : null;
  const recent = a && since != null ? a.flags.filter((f) => ts(f.date) >= since && ts(f.date) <= ts(asOf)) : [];
  const older = s.flags.filter((f) => since == null || ts(f.date) < since);
  recentBox.dataset.rows = String(recent.length);
  if (recent.length) recentBox.appendChild(flagRows(recent));
  else recentBox.appendChild(el("p", "none", "None: no flag in the last " + D.recent_flag_days + " days."));
  box.dataset.rows = String(older.length);
  document.getElementById("history-count").textContent = "(" + older.length + " in this period)";
  if (!older.length) box.appendChild(el("p", "none", "No older flags in this period."));
  else box.appendChild(flagRows(older));
}

// every shoe of the athlete (not limited to the period: a shoe's distance is its whole life)
function renderShoes(a) {
  const box = document.getElementById("shoe-list"), sub = document.getElementById("shoes-sub");
  box.replaceChildren();
  const list = a ? a.shoes : [];
  box.dataset.rows = String(list.length);
  const worn = list.filter((x) => x.status === "past_range" && !x.retired);
  sub.textContent = worn.length ? worn.length + (worn.length > 1 ? " shoes are" : " shoe is") + " past the replacement range." : "";
  sub.hidden = !worn.length;
  if (!list.length) { box.appendChild(el("p", "none", "No shoe yet: set the shoe on your runs at Strava to see its distance here.")); return; }
  const table = el("table", "flags shoes"), head = el("tr");
  for (const h of ["Shoe", "Distance", "Runs", "Used", "Replacement range"]) head.appendChild(el("th", null, h));
  const thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
  const body = el("tbody");
  for (const x of list) {
    const tr = el("tr"); tr.dataset.gear = x.gear_id; tr.dataset.status = x.retired ? "retired" : x.status;
    tr.appendChild(el("td", "expl", x.name));
    tr.appendChild(el("td", "date", withUnit(x.distance, 1, DIST)));
    tr.appendChild(el("td", "date runs", x.runs + (x.runs === 1 ? " run" : " runs")));
    tr.appendChild(el("td", "date used", fmtDay(ts(x.first_used), true) + " – " + fmtDay(ts(x.last_used), true)));
    const st = el("td");
    st.className = "status";
    st.appendChild(el("span", "range-text", fix(x.range[0], 0) + "–" + withUnit(x.range[1], 0, DIST) + " "));
    if (x.retired) st.appendChild(el("span", "badge retired", "retired"));
    else if (x.status === "past_range") st.appendChild(el("span", "badge info", "past range since " + fmtDay(ts(x.past_range_since), true)));
    else if (x.status === "in_range") st.appendChild(el("span", "badge warning", "in range"));
    tr.appendChild(st);
    body.appendChild(tr);
  }
  table.appendChild(body);
  box.appendChild(table);
}

function render() {
  destroyPlots();
  const a = D.athletes.find((x) => x.id === state.athlete);
  document.body.dataset.athlete = a ? a.id : "";
  if (!a) {
    document.getElementById("latest-week").textContent = "No athletes in the published file yet.";
    document.getElementById("tiles").replaceChildren();
    renderPlan(null);
    renderBlocks(null);
    for (const name in CHARTS) drawChart(name, { w: { t: [] }, d: { t: [] }, flags: [] });
    renderFlags(null, { flags: [] });
    renderShoes(null);
    document.getElementById("period-range").textContent = "";
    document.body.dataset.ready = "1";
    return;
  }
  renderPlan(a);
  renderLatest(a);
  renderBlocks(a);
  const s = slice(a, state.weeks);
  document.body.dataset.periodStart = s.first || "";
  document.body.dataset.periodEnd = s.last || "";
  document.getElementById("period-range").textContent = s.last ? fmtDay(ts(s.first), true) + " – " + fmtDay(ts(s.last), true) : "";
  for (const name in CHARTS) drawChart(name, s);
  const share = imputedShare(s.w);
  const imputedText = share == null ? "" : "In this period " + fix(share, 0) + " % of the session load had an imputed effort.";
  document.getElementById("share-imputed").textContent = imputedText;
  document.getElementById("pmc-imputed").textContent = imputedText;
  renderFlags(a, s);
  renderShoes(a);
  document.body.dataset.ready = "1";
}

// ---- controls ------------------------------------------------------------------------------------
const athleteSel = document.getElementById("athlete"), periodSel = document.getElementById("period");
for (const a of D.athletes) { const o = el("option", null, a.id); o.value = a.id; athleteSel.appendChild(o); }
if (D.athletes.length > 1) document.getElementById("athlete-control").hidden = false;
for (const w of D.periods) { const o = el("option", null, w ? "Last " + w + " weeks" : "All"); o.value = String(w); periodSel.appendChild(o); }
athleteSel.value = state.athlete || ""; periodSel.value = String(state.weeks);
athleteSel.addEventListener("change", () => { state.athlete = athleteSel.value; writeHash(); render(); });
periodSel.addEventListener("change", () => { state.weeks = Number(periodSel.value); writeHash(); render(); });
window.addEventListener("hashchange", () => { state = readHash(); athleteSel.value = state.athlete || ""; periodSel.value = String(state.weeks); render(); });

let pending = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(pending);
  pending = requestAnimationFrame(() => {
    for (const p of plots) { const w = Math.max(200, p.box.clientWidth); p.u.setSize({ width: w, height: heightFor(w, p.box.dataset.chart) }); }
  });
});

render();
})();
