"""`runlift dashboard`: one self-contained HTML page drawn from the published file.

The page is a single file: the data as JSON, the uPlot chart library (vendored in
``flows/static/uplot``, MIT) and all CSS and JavaScript inline, so it opens from ``file://`` with no
network at all (a Content-Security-Policy in the page forbids every fetch). It reads only the
published file, read-only, so it never blocks the nightly job.

Per athlete and for a period (last 8 / 16 / 52 weeks, or all): the latest week in numbers, then
weekly running distance next to strength volume load, the strength share of session load, daily
impact load with its acute and chronic EWMA, the ACWR against its 0.8-1.5 band, fitness / fatigue /
form, hard sets by body region with the posterior:anterior ratio, and the flags. Distances and
masses are converted to the settings' display units here, in Python; the JSON holds display values.
"""

from __future__ import annotations

import html
import json
import math
import os
import sys
import threading
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb

from runlift.flows.settings import Settings
from runlift.flows.units import KG_PER_LB, METRES_PER_MILE
from runlift.warehouse import queries

STATIC = Path(__file__).resolve().parent / "static" / "uplot"
PERIODS = (8, 16, 52, 0)  # weeks; 0 = all
DEFAULT_PERIOD = 16
LOOPBACK = ("127.0.0.1", "localhost")


class DashboardError(RuntimeError):
    """The dashboard cannot be drawn (no published file yet, or one without the marts)."""


def uplot_version() -> str:
    first = (STATIC / "VERSION").read_text(encoding="utf-8").split()
    return first[1] if len(first) > 1 else "?"


# --- data ------------------------------------------------------------------------------------------

def _num(value: Any, digits: int) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, digits)


def _columns(rows: list[dict[str, Any]], spec: dict[str, tuple[str, Callable[[Any], Any]]]
             ) -> dict[str, dict[str, list[Any]]]:
    """Rows (with athlete_id) as per-athlete columns: name -> [values], converted by ``spec``."""
    out: dict[str, dict[str, list[Any]]] = {}
    for rec in rows:
        cols = out.setdefault(rec["athlete_id"], {key: [] for key in spec})
        for key, (source, conv) in spec.items():
            cols[key].append(conv(rec[source]))
    return out


def load_dashboard_data(published_path: str | os.PathLike[str], units: str) -> dict[str, Any]:
    """Everything the page shows, in display units, read from the published file (read-only)."""
    if units not in ("metric", "imperial"):
        raise ValueError(f"units must be metric or imperial, not {units!r}")
    path = Path(published_path)
    if not path.is_file():
        raise DashboardError(f"no published file at {path} yet; run `runlift build` (or `runlift sync`) first")
    imperial = units == "imperial"
    per_dist = METRES_PER_MILE if imperial else 1000.0
    per_mass = KG_PER_LB if imperial else 1.0

    def dist(m: Any) -> float | None:
        return _num(None if m is None else m / per_dist, 2)

    def mass(kg: Any) -> float | None:
        return _num(None if kg is None else kg / per_mass, 1)

    def iso(day: Any) -> str | None:
        return day.isoformat() if day is not None else None

    def n1(v: Any) -> float | None:
        return _num(v, 1)

    def n3(v: Any) -> float | None:
        return _num(v, 3)

    def pct(v: Any) -> float | None:
        return _num(None if v is None else v * 100, 1)

    def integer(v: Any) -> int:
        return int(v or 0)

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise DashboardError(f"cannot open the published file {path}: {exc}") from None
    try:
        published = queries.published_stamp(con)
        athletes = queries.athletes(con)
        weekly_spec: dict[str, tuple[str, Callable[[Any], Any]]] = {
            "week": ("week_start", iso), "days": ("days_in_data", integer),
            "run_distance": ("run_distance_m", dist), "runs": ("run_count", integer),
            "longest_run": ("longest_run_m", dist), "ramp_pct": ("mileage_ramp_pct", n1),
            "gym_sessions": ("strength_sessions", integer), "volume_load": ("strength_volume_load_kg", mass),
            "hard_lower": ("hard_sets_lower", integer), "hard_upper": ("hard_sets_upper", integer),
            "hard_core": ("hard_sets_core", integer), "hard_knee": ("hard_sets_knee", integer),
            "hard_hip": ("hard_sets_hip", integer),
            "run_load": ("run_session_load_au", n1), "strength_load": ("strength_session_load_au", n1),
            "strength_share": ("strength_share_of_session_load", pct),
            "impact": ("impact_load_kbw", n1), "pa_ratio": ("posterior_anterior_ratio_4w", n3),
            "flags": ("flags_count", integer)}
        weekly = _columns(queries.weekly_training_balance(con), weekly_spec)
        daily_spec: dict[str, tuple[str, Callable[[Any], Any]]] = {
            "date": ("date", iso), "impact": ("impact_load_kbw", n1), "acute": ("acute_impact_kbw", n1),
            "chronic": ("chronic_impact_kbw", n1), "acwr": ("acwr", n3), "fitness": ("fitness_au", n1),
            "fatigue": ("fatigue_au", n1), "form": ("form_au", n1)}
        daily = _columns(queries.daily_training_load(con), daily_spec)
        flags: dict[str, list[dict[str, Any]]] = {}
        for f in queries.training_flags(con):  # newest first; by severity, then flag, within a day
            flags.setdefault(f.athlete_id, []).append({"date": iso(f.date), "flag": f.flag, "severity": f.severity,
                                                       "explanation": f.explanation})
    except duckdb.Error as exc:
        raise DashboardError(f"{path} is not a runlift published file this version can read "
                             f"({str(exc).splitlines()[0]})") from None
    finally:
        con.close()

    out_athletes = []
    for a in athletes:
        out_athletes.append({
            "id": a.athlete_id, "first_activity_date": iso(a.first_activity_date), "workouts": int(a.workouts or 0),
            "as_of_date": iso(a.as_of_date),
            "weekly": weekly.get(a.athlete_id) or {key: [] for key in weekly_spec},
            "daily": daily.get(a.athlete_id) or {key: [] for key in daily_spec},
            "flags": flags.get(a.athlete_id, []),
        })
    published_at, as_of_date = (published.published_at, published.as_of_date) if published else (None, None)
    return {
        "published_at": published_at.strftime("%Y-%m-%d %H:%M UTC") if published_at else None,
        "as_of_date": iso(as_of_date),
        "units": {"system": units, "distance": "mi" if imperial else "km", "mass": "lb" if imperial else "kg"},
        "athletes": out_athletes,
        "periods": list(PERIODS),
        "default_period": DEFAULT_PERIOD,
    }


# --- the page --------------------------------------------------------------------------------------

def _json_for_script(data: Any) -> str:
    """JSON safe inside <script type="application/json">: no '<', '>' or '&' characters at all."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_dashboard(published_path: str | os.PathLike[str], units: str, *, athlete: str | None = None) -> str:
    """The dashboard page as one self-contained HTML string (``athlete``: the one shown first)."""
    data = load_dashboard_data(published_path, units)
    ids = [a["id"] for a in data["athletes"]]
    data["default_athlete"] = athlete if athlete in ids else (ids[0] if ids else None)
    data["uplot_version"] = uplot_version()
    js = (STATIC / "uPlot.iife.min.js").read_text(encoding="utf-8")
    css = (STATIC / "uPlot.min.css").read_text(encoding="utf-8")
    if "</script" in js.lower() or "</style" in css.lower():  # would end the inline element early
        raise DashboardError("the vendored uPlot files cannot be inlined (they contain a closing tag)")
    stamp = (f"published at {data['published_at'] or 'unknown'} · as of {data['as_of_date'] or 'unknown'}")
    page = _PAGE
    for key, value in (("__STAMP__", html.escape(stamp)), ("__UPLOT_CSS__", css), ("__APP_CSS__", _CSS),
                       ("__DATA__", _json_for_script(data)), ("__UPLOT_JS__", js), ("__APP_JS__", _JS)):
        page = page.replace(key, value, 1)
    return page


def _write(settings: Settings) -> tuple[Path, str]:
    page = render_dashboard(settings.published_path, settings.units, athlete=settings.athlete_id)
    target = settings.dashboard_path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target, page


def write_dashboard_file(settings: Settings) -> Path:
    """Draw the dashboard from ``settings.published_path`` and swap it into ``settings.dashboard_path``."""
    return _write(settings)[0]


# --- serving ---------------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    server_version = "runlift-dashboard"
    sys_version = ""
    server: "DashboardServer"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(send_body=False)

    def _host_ok(self) -> bool:
        # Only our own names: a page elsewhere cannot read this one through DNS rebinding.
        host = self.headers.get("Host")
        if host is None:
            return True
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        return name in (*LOOPBACK, "[::1]")

    def _plain(self, status: int, text: str, send_body: bool) -> None:
        body = (text + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _respond(self, send_body: bool) -> None:
        if not self._host_ok():
            self._plain(403, "forbidden", send_body)
            return
        if urlsplit(self.path).path != "/":  # /favicon.ico included: the page brings its own (none)
            self._plain(404, "not found", send_body)
            return
        try:
            _, page = _write(self.server.settings)
        except DashboardError as exc:
            self._plain(503, str(exc), send_body)
            return
        body = page.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.quiet:
            return
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, settings: Settings, host: str, port: int, quiet: bool = False):
        self.settings = settings
        self.quiet = quiet
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 0, open_browser: bool = False, *,
          echo: Callable[[str], None] = print, ready: Callable[[DashboardServer], None] | None = None,
          quiet: bool = False) -> None:
    """Serve the dashboard on 127.0.0.1 until interrupted (Ctrl-C), redrawn on every request to ``/``.

    ``port=0`` picks a free port. Only the loopback interface: the page holds personal data and the
    server has no authentication. ``ready`` is called with the running server (tests stop it with
    ``server.shutdown()``).
    """
    if host not in LOOPBACK:
        raise ValueError(f"the dashboard is served on 127.0.0.1 only (no authentication), not on {host!r}")
    server = DashboardServer(settings, "127.0.0.1", port, quiet=quiet)
    try:
        write_dashboard_file(settings)  # fail early, and leave a current file behind
    except DashboardError as exc:
        echo(f"note: {exc}; the page will say so until a published file exists")
    echo(f"serving the runlift dashboard at {server.url} (Ctrl-C to stop)")
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
    if ready is not None:
        ready(server)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        echo("stopped")
    finally:
        server.server_close()


# --- page template (placeholders __NAME__ are filled in by render_dashboard) -----------------------

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>runlift dashboard</title>
<style>__UPLOT_CSS__</style>
<style>__APP_CSS__</style>
</head>
<body>
<header class="top">
  <div class="title">
    <h1>runlift</h1>
    <p id="stamp" class="stamp">__STAMP__</p>
  </div>
  <div class="controls">
    <label id="athlete-control" hidden>Athlete <select id="athlete"></select></label>
    <label>Period <select id="period"></select></label>
  </div>
</header>
<main>
  <section class="card wide" id="latest" aria-labelledby="latest-title">
    <h2 id="latest-title">The latest week in numbers</h2>
    <p class="sub" id="latest-week"></p>
    <div class="tiles" id="tiles"></div>
  </section>
  <section class="card">
    <h2>Running distance and strength volume, per week</h2>
    <div class="chart" id="chart-volume" data-chart="volume"></div>
    <p class="note">Bars: running distance (left axis) and strength volume load, repetitions &times; weight (right axis).</p>
  </section>
  <section class="card">
    <h2>Share of session load: strength vs running</h2>
    <div class="chart" id="chart-share" data-chart="share"></div>
    <p class="note">Session load = RPE &times; moving minutes (Foster 2001). Weeks without either show no bar.</p>
  </section>
  <section class="card wide" id="impact-card">
    <h2>Impact load, per day</h2>
    <div class="pair">
      <div>
        <h3>Daily impact load with acute and chronic averages</h3>
        <div class="chart" id="chart-impact" data-chart="impact"></div>
        <p class="note">Running impact plus strength knee load, in thousands of body-weight steps (kBW); acute and chronic: 7- and 28-day exponentially weighted averages.</p>
      </div>
      <div>
        <h3>Acute:chronic impact ratio (ACWR)</h3>
        <div class="chart" id="chart-acwr" data-chart="acwr"></div>
        <p class="note">Shaded: the 0.8&ndash;1.5 band. Descriptive only: its predictive value is disputed (Impellizzeri 2020).</p>
      </div>
    </div>
  </section>
  <section class="card">
    <h2>Fitness, fatigue and form</h2>
    <div class="chart" id="chart-pmc" data-chart="pmc"></div>
    <p class="note">Fitness and fatigue: 42- and 7-day averages of total session load; form = yesterday's fitness &minus; fatigue.</p>
  </section>
  <section class="card">
    <h2>Strength hard sets by body region, per week</h2>
    <div class="chart" id="chart-sets" data-chart="sets"></div>
    <p class="note">Stacked bars: hard sets (left axis). Line: posterior:anterior ratio, hip- to knee-dominant hard sets over 4 weeks (right axis; a flag below 0.5).</p>
  </section>
  <section class="card wide">
    <h2>Flags</h2>
    <div id="flags" data-chart="flags"></div>
  </section>
</main>
<footer>Drawn by runlift from the published file. Charts: uPlot <span id="uplot-version"></span> (MIT). Drag across a chart to zoom, double-click to reset.</footer>
<script type="application/json" id="runlift-data">__DATA__</script>
<script>__UPLOT_JS__</script>
<script>__APP_JS__</script>
</body>
</html>
"""

_CSS = """
:root { --fg:#1d2330; --muted:#5b6475; --line:#e3e6ec; --bg:#f5f6f8; --card:#fff;
        --run:#0072B2; --strength:#D55E00; --warn:#b45309; --info:#2563eb; }
* { box-sizing: border-box; }
[hidden] { display:none !important; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
       color:var(--fg); background:var(--bg); }
header.top { display:flex; flex-wrap:wrap; gap:8px 16px; align-items:flex-end; justify-content:space-between;
             padding:14px 16px 6px; max-width:1100px; margin:0 auto; }
h1 { font-size:22px; margin:0; letter-spacing:.2px; }
.stamp { margin:2px 0 0; color:var(--muted); font-size:13px; }
.controls { display:flex; flex-wrap:wrap; gap:8px 14px; font-size:14px; color:var(--muted); }
.controls label { display:flex; align-items:center; gap:6px; }
select { font:inherit; color:var(--fg); padding:5px 8px; border:1px solid #c9ced8; border-radius:6px; background:#fff; }
main { max-width:1100px; margin:0 auto; padding:6px 10px 10px; display:grid; grid-template-columns:minmax(0,1fr); gap:12px; }
.pair { display:grid; grid-template-columns:minmax(0,1fr); gap:4px 24px; }
@media (min-width: 900px) {
  main { grid-template-columns:repeat(2, minmax(0,1fr)); }
  .wide { grid-column:1 / -1; }
  .pair { grid-template-columns:repeat(2, minmax(0,1fr)); }
}
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 12px 8px; min-width:0; }
h2 { font-size:16px; margin:0 0 6px; }
h3 { font-size:14px; margin:8px 0 4px; font-weight:600; }
.sub { margin:0 0 10px; color:var(--muted); font-size:13px; }
.note { margin:6px 0 4px; color:var(--muted); font-size:12.5px; }
.tiles { display:grid; grid-template-columns:repeat(auto-fill, minmax(122px, 1fr)); gap:8px; }
@media (max-width: 480px) { .tiles { grid-template-columns:repeat(2, minmax(0,1fr)); } }
.tile { border:1px solid var(--line); border-radius:8px; padding:8px 10px; min-width:0; }
.tile .label { font-size:12.5px; color:var(--muted); }
.tile .value { font-size:21px; font-weight:650; font-variant-numeric:tabular-nums; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
.tile .prev { font-size:12px; color:var(--muted); }
.tile.warn .value { color:var(--warn); }
.chart { width:100%; min-height:60px; }
.chart-msg { margin:2px 0 0; font-size:13px; color:var(--strength); }
.tiles .no-data { grid-column:1 / -1; }
.chart .uplot { width:100% !important; }
.uplot .u-legend { font-size:12.5px; text-align:left; }
.uplot .u-legend .u-series > * { padding:1px 4px; }
.uplot .u-legend tr { margin-right:8px; }
.no-data { display:flex; align-items:center; justify-content:center; height:120px; margin:0; color:var(--muted);
           background:repeating-linear-gradient(45deg,#fafbfc,#fafbfc 8px,#f3f4f7 8px,#f3f4f7 16px); border-radius:8px; }
table.flags { width:100%; border-collapse:collapse; font-size:14px; }
table.flags th, table.flags td { text-align:left; padding:6px 6px; border-top:1px solid var(--line); vertical-align:top; }
table.flags th { color:var(--muted); font-weight:600; border-top:0; font-size:12.5px; }
table.flags td.date { white-space:nowrap; font-variant-numeric:tabular-nums; }
.badge { display:inline-block; padding:1px 7px; border-radius:10px; font-size:12px; font-weight:600; }
.badge.alert { background:#fbd5d5; color:#9b1c1c; }
.badge.warning { background:#fdecd7; color:#8a3b00; }
.badge.info { background:#e3edfd; color:#1e429f; }
footer { max-width:1100px; margin:0 auto; padding:4px 16px 24px; color:var(--muted); font-size:12px; }
@media (max-width: 560px) {
  table.flags thead { display:none; }
  table.flags tr { display:grid; grid-template-columns:auto 1fr; gap:3px 10px; padding:8px 2px; border-top:1px solid var(--line); }
  table.flags tbody tr:first-child { border-top:0; }
  table.flags td { display:block; border:0; padding:0; }
  table.flags td.expl { grid-column:1 / -1; }
}
@media (max-width: 480px) { .card { padding:10px 8px 6px; } main { padding:4px 6px; } }
"""

_JS = r"""
(function () {
"use strict";
const D = JSON.parse(document.getElementById("runlift-data").textContent);
const DIST = D.units.distance, MASS = D.units.mass;
const COL = { run: "#0072B2", strength: "#D55E00", impact: "#86b4de", acute: "#E69F00", chronic: "#0072B2",
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

function heightFor(width) { return Math.round(Math.max(230, Math.min(320, width * 0.62))); }

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
function slice(a, weeks) {
  const W = a.weekly, Dd = a.daily;
  const n = W.week.length;
  let cutoff = null;
  if (weeks > 0 && n > 0) cutoff = ts(W.week[n - 1]) - (weeks - 1) * WEEK;
  const wi = [], di = [];
  for (let i = 0; i < n; i++) if (cutoff == null || ts(W.week[i]) >= cutoff) wi.push(i);
  for (let i = 0; i < Dd.date.length; i++) if (cutoff == null || ts(Dd.date[i]) >= cutoff) di.push(i);
  const pick = (obj, idx) => { const o = {}; for (const k in obj) o[k] = idx.map((i) => obj[k][i]); return o; };
  const w = pick(W, wi), d = pick(Dd, di);
  w.t = (w.week || []).map(ts); d.t = (d.date || []).map(ts);
  const flags = a.flags.filter((f) => cutoff == null || ts(f.date) >= cutoff);
  return { w: w, d: d, flags: flags };
}

// ---- the latest week -----------------------------------------------------------------------------
function renderLatest(a) {
  const W = a.weekly, n = W.week.length, tiles = document.getElementById("tiles");
  tiles.replaceChildren();
  const sub = document.getElementById("latest-week");
  if (!n) { sub.textContent = "No workouts yet for " + a.id + "."; tiles.appendChild(el("p", "no-data wide", "no data")); return; }
  const i = n - 1, p = n > 1 ? n - 2 : null;
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
    tiles.appendChild(t);
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
      cfg.axes.push(yAxis("Running distance (" + DIST + ")", "dist", { stroke: COL.run }));
    }
    if (lifts) {
      cfg.data.push(w.volume_load);
      cfg.series.push(seriesBars("Volume load", COL.strength, "mass", MASS, 0, { paths: bars({ align: both ? 1 : 0, size: size }) }));
      cfg.scales.mass = { range: (u, mn, mx) => [0, Math.max(1, mx) * 1.08] };
      cfg.axes.push(yAxis("Volume load (" + MASS + ")", "mass", runs ? { side: 1, stroke: COL.strength, grid: { show: false } } : { stroke: COL.strength }));
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
      data: [w.t, full, str],
      series: [{ label: "Week of", value: (u, t) => t == null ? "–" : fmtDay(t, true) },
        seriesBars("Running", COL.run, "pct", "%", 0, { value: (u, v, si, i) => (i == null || str[i] == null) ? "–" : fix(100 - str[i], 0) + " %" }),
        seriesBars("Strength", COL.strength, "pct", "%", 0)],
      scales: { x: { time: true, range: xRange(WEEK) }, pct: { range: [0, 100] } },
      axes: [Object.assign(xAxis("Week (starting Monday)"), { splits: weekSplits }), yAxis("Share of session load (%)", "pct", { splits: () => [0, 25, 50, 75, 100] })],
      plugins: [refPlugin([{ scale: "pct", from: 50, stroke: "rgba(255,255,255,0.9)" }])],
    };
  },
  impact: (s) => {
    const d = s.d;
    if (!anyValue([d.impact || [], d.acute || [], d.chronic || []], (v) => v > 0)) return null;
    return {
      data: [d.t, d.impact, d.acute, d.chronic],
      series: [{ label: "Day", value: (u, t) => t == null ? "–" : fmtDay(t, true) },
        seriesBars("Daily", COL.impact, "kbw", "kBW", 1, { paths: bars({ size: [0.8, 14] }) }),
        seriesLine("Acute (7 d)", COL.acute, "kbw", "kBW", 1),
        seriesLine("Chronic (28 d)", COL.chronic, "kbw", "kBW", 1)],
      scales: { x: { time: true, range: xRange(DAY) }, kbw: { range: (u, mn, mx) => [0, Math.max(1, mx) * 1.05] } },
      axes: [xAxis("Day"), yAxis("Impact load (kBW)", "kbw")],
      cursor: { sync: { key: "runlift-daily" } },
    };
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
      axes: [xAxis("Day"), yAxis("Acute : chronic (ratio)", "ratio")],
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
      axes: [xAxis("Day"), yAxis("Training load (AU)", "au")],
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
      axes: [Object.assign(xAxis("Week (starting Monday)"), { splits: weekSplits }), yAxis("Hard sets (sets/week)", "sets"),
             yAxis("Posterior : anterior (ratio)", "ratio", { side: 1, grid: { show: false } })],
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
  const width = Math.max(200, box.clientWidth);
  const points = nonNull(cfg.data.slice(1));
  const opts = Object.assign({
    width: width, height: heightFor(width), padding: [10, 6, 0, 2],
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

function renderFlags(s) {
  const box = document.getElementById("flags");
  box.replaceChildren();
  box.dataset.rows = String(s.flags.length);
  if (!s.flags.length) { box.appendChild(el("p", "no-data", "no flags in this period")); return; }
  const table = el("table", "flags"), head = el("tr");
  for (const h of ["Date", "Severity", "Explanation"]) head.appendChild(el("th", null, h));
  const thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
  const body = el("tbody");
  for (const f of s.flags) {
    const tr = el("tr"); tr.dataset.flag = f.flag;
    tr.appendChild(el("td", "date", f.date));
    const sev = el("td"); sev.appendChild(el("span", "badge " + f.severity, f.severity)); tr.appendChild(sev);
    tr.appendChild(el("td", "expl", f.explanation));
    body.appendChild(tr);
  }
  table.appendChild(body); box.appendChild(table);
}

function render() {
  destroyPlots();
  const a = D.athletes.find((x) => x.id === state.athlete);
  document.body.dataset.athlete = a ? a.id : "";
  if (!a) {
    document.getElementById("latest-week").textContent = "No athletes in the published file yet.";
    document.getElementById("tiles").replaceChildren();
    for (const name in CHARTS) drawChart(name, { w: { t: [] }, d: { t: [] }, flags: [] });
    renderFlags({ flags: [] });
    document.body.dataset.ready = "1";
    return;
  }
  renderLatest(a);
  const s = slice(a, state.weeks);
  for (const name in CHARTS) drawChart(name, s);
  renderFlags(s);
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
    for (const p of plots) { const w = Math.max(200, p.box.clientWidth); p.u.setSize({ width: w, height: heightFor(w) }); }
  });
});

render();
})();
"""
