"""`runlift dashboard`: one self-contained HTML page drawn from the published file.

The page is a single file: the data as JSON, the uPlot chart library (vendored in
``flows/static/uplot``, MIT) and all CSS and JavaScript inline (the page, its styles and script are
``flows/static/dashboard/page.html``, ``dashboard.css`` and ``dashboard.js``), so it opens from
``file://`` with no network at all (a Content-Security-Policy in the page forbids every fetch). It reads only the
published file, read-only, so it never blocks the nightly job.

Per athlete, first "What should I do this week?": the flags' thresholds with the athlete's numbers
filled in (``queries.week_plan``, sentences written here by ``week_verdict``), beside the flags of
the last 14 days. Then, for a period (last 8 / 16 / 52 weeks, or all) that ends at the athlete's
latest data (not today): the latest week in numbers, this training block against the previous one
(``queries.block_comparisons``: running, hard sets per muscle group, impact, the weakest muscle
group against its usual weekly range), weekly running distance next to strength
volume load, the strength share of session load with the share of load whose effort was imputed,
knee stress (7- and 28-day means per day of running impact and of strength knee load, each on its
own axis, daily bars behind), the ACWR against its 0.8-1.5 band, fitness / fatigue / form, hard
sets by body region with the posterior:anterior ratio, and the older flags folded away. Breaks (14
or more days without any workout, ``queries.data_gaps``) are blanked so the charts draw them as
gaps, and so is the ACWR in the warm-up after a break. Distances and masses are converted to the
settings' display units here, in Python; the JSON holds display values.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import re
import sys
import threading
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb

from runlift.flows import units as fmt
from runlift.flows.settings import Settings
from runlift.flows.units import KG_PER_LB, METRES_PER_MILE
from runlift.warehouse import queries

# The page, its styles and script (flows/static/dashboard/) and the vendored uPlot (flows/static/uplot/),
# package data read with importlib.resources.
STATIC = resources.files("runlift.flows") / "static"
PERIODS = (8, 16, 52, 0)  # weeks; 0 = all
DEFAULT_PERIOD = 16
LOOPBACK = ("127.0.0.1", "localhost")
RECENT_FLAG_DAYS = 14  # flags of the last 14 days beside the verdict; older ones folded away
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LONG_RUN_M = 16000.0  # marts.block_summary.long_runs: runs of 16 km or more (docs/metrics.md)
# what the dashboard reads (warehouse.queries): a published file without one of them is refused by name
DASHBOARD_TABLES = frozenset({
    "ops.published", "marts.dim_athlete", "marts.weekly_training_balance", "marts.daily_training_load",
    "marts.fct_activities", "marts.fct_strength_sets", "marts.gear_mileage", "marts.block_summary",
    "marts.training_flags"})
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class DashboardError(RuntimeError):
    """The dashboard cannot be drawn (no published file yet, or one without the marts)."""


def _static(folder: str, name: str) -> str:
    return STATIC.joinpath(folder).joinpath(name).read_text(encoding="utf-8")


def uplot_version() -> str:
    first = _static("uplot", "VERSION").split()
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
        missing = sorted(DASHBOARD_TABLES - queries.tables_present(con))
        if missing:
            raise DashboardError(f"{path} has no {', '.join(missing)}: it was published by an older runlift "
                                 "(or a build that failed); `runlift build` publishes them")
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
            "total_load": ("total_session_load_au", n1),
            "strength_share": ("strength_share_of_session_load", pct),
            "imputed_share": ("imputed_load_share", pct),
            "impact": ("impact_load_kbw", n1), "pa_ratio": ("posterior_anterior_ratio_4w", n3),
            "flags": ("flags_count", integer)}
        weekly = _columns(queries.weekly_training_balance(con), weekly_spec)
        daily_spec: dict[str, tuple[str, Callable[[Any], Any]]] = {
            "date": ("date", iso), "impact": ("impact_load_kbw", n1), "acute": ("acute_impact_kbw", n1),
            "chronic": ("chronic_impact_kbw", n1), "acwr": ("acwr", n3), "fitness": ("fitness_au", n1),
            "fatigue": ("fatigue_au", n1), "form": ("form_au", n1), "warmup": ("is_warmup", bool)}
        daily = _columns(queries.daily_training_load(con), daily_spec)
        knee_spec: dict[str, tuple[str, Callable[[Any], Any]]] = {
            "date": ("date", iso), "run_impact": ("run_impact_kbw", n3), "knee_load": ("strength_knee_load_kbw", n3),
            "run_7d": ("run_impact_7d_kbw", n3), "run_28d": ("run_impact_28d_kbw", n3),
            "knee_7d": ("strength_knee_7d_kbw", n3), "knee_28d": ("strength_knee_28d_kbw", n3)}
        knee = _columns(queries.knee_stress_days(con), knee_spec)
        gaps: dict[str, list[queries.Gap]] = {}
        for g in queries.data_gaps(con):
            gaps.setdefault(g.athlete_id, []).append(g)
        plans = {a.athlete_id: queries.week_plan(con, a.athlete_id, a.as_of_date)
                 for a in athletes if a.as_of_date is not None and a.workouts}
        shoes: dict[str, list[dict[str, Any]]] = {}
        for sh in queries.shoes(con):  # by athlete, most recently used first
            shoes.setdefault(sh.athlete_id, []).append({
                "name": sh.shoe_name, "gear_id": sh.gear_id, "distance": dist(sh.distance_m), "runs": sh.runs,
                "first_used": iso(sh.first_used_date), "last_used": iso(sh.last_used_date),
                "status": sh.range_status, "retired": bool(sh.is_retired), "past_range_since": iso(sh.past_range_date),
                "range": [dist(sh.replacement_low_m), dist(sh.replacement_high_m)]})
        blocks = {c.athlete_id: c for c in queries.block_comparisons(con)}
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
        day_cols = daily.get(a.athlete_id) or {key: [] for key in daily_spec}
        knee_cols = knee.get(a.athlete_id) or {key: [] for key in knee_spec}
        week_cols = weekly.get(a.athlete_id) or {key: [] for key in weekly_spec}
        athlete_gaps = gaps.get(a.athlete_id, [])
        latest = _draw_gaps(day_cols, knee_cols, week_cols, athlete_gaps)
        plan = plans.get(a.athlete_id)
        out_athletes.append({
            "id": a.athlete_id, "first_activity_date": iso(a.first_activity_date), "workouts": int(a.workouts or 0),
            "as_of_date": iso(a.as_of_date), "latest_data_date": iso(latest),
            "gaps": [[iso(g.first_day), iso(g.last_day)] for g in athlete_gaps],
            "weekly": week_cols, "daily": day_cols | {k: v for k, v in knee_cols.items() if k != "date"},
            "flags": flags.get(a.athlete_id, []),
            "shoes": shoes.get(a.athlete_id, []),
            "plan": week_verdict(plan, units) if plan is not None else None,
            "blocks": _blocks(blocks.get(a.athlete_id), dist),
        })
    published_at, as_of_date = (published.published_at, published.as_of_date) if published else (None, None)
    return {
        "published_at": published_at.strftime("%Y-%m-%d %H:%M UTC") if published_at else None,
        "as_of_date": iso(as_of_date),
        "units": {"system": units, "distance": "mi" if imperial else "km", "mass": "lb" if imperial else "kg"},
        "athletes": out_athletes,
        "periods": list(PERIODS),
        "default_period": DEFAULT_PERIOD,
        "recent_flag_days": RECENT_FLAG_DAYS,
    }


def _blocks(c: queries.BlockComparison | None, dist: Callable[[Any], float | None]) -> dict[str, Any] | None:
    """The current and the previous block (marts.block_summary) in display units; None: no block yet."""
    if c is None:
        return None

    def one(b: queries.BlockFigures | None) -> dict[str, Any] | None:
        if b is None:
            return None
        weakest = None if b.weakest_muscle_group is None else {
            "group": b.weakest_muscle_group, "label": fmt.muscle(b.weakest_muscle_group),
            "per_week": _num(b.weakest_hard_sets_per_week, 1), "low": b.weakest_usual_low, "high": b.weakest_usual_high}
        return {
            "name": b.block_name, "source": b.block_source, "start": b.start_date.isoformat(),
            "end": b.end_date.isoformat(), "days": b.days, "complete": b.is_complete, "race": b.race_name,
            "run_distance": dist(b.run_distance_m), "weekly_run_distance": dist(b.weekly_run_distance_m),
            "weekly_run_cv": _num(b.weekly_run_km_cv, 2), "runs": b.runs, "long_runs": b.long_runs,
            "longest_run": dist(b.longest_run_m), "strength_sessions": b.strength_sessions,
            "hard_sets": [[g, fmt.muscle(g), _num(v, 1)] for g, v in b.hard_sets_per_week.items()],
            "impact": _num(b.run_impact_kbw_per_week, 1), "knee_load": _num(b.strength_knee_load_kbw_per_week, 2),
            "strength_share": _num(None if b.strength_share_of_session_load is None
                                   else b.strength_share_of_session_load * 100, 0),
            "pa_ratio": _num(b.posterior_anterior_ratio, 2), "flags": b.flags, "weakest": weakest}

    return {"current": one(c.current), "previous": one(c.previous), "long_run_distance": dist(LONG_RUN_M)}


def _draw_gaps(day_cols: dict[str, list[Any]], knee_cols: dict[str, list[Any]], week_cols: dict[str, list[Any]],
               gaps: list[queries.Gap]) -> dt.date | None:
    """Blank what a chart should draw as a gap (in place): every daily value on the days of a break (14
    or more days without any workout), the ACWR on warm-up days (it describes the break then, and no
    flag reads it), and weeks wholly inside a break. Returns the latest date with data: the day
    before a break that lasts to the as-of date, else the as-of date."""
    dates = [dt.date.fromisoformat(x) for x in day_cols["date"]]
    if not dates:
        return None
    in_gap = [any(g.first_day <= day <= g.last_day for g in gaps) for day in dates]
    for cols in (day_cols, knee_cols):
        for key, values in cols.items():
            if key in ("date", "warmup"):
                continue
            for i, blank in enumerate(in_gap):
                if blank:
                    values[i] = None
    day_cols["acwr"] = [None if warm else v for v, warm in zip(day_cols["acwr"], day_cols["warmup"], strict=True)]
    del day_cols["warmup"]
    for i, week in enumerate(week_cols["week"]):
        start = dt.date.fromisoformat(week)
        if any(g.first_day <= start and start + dt.timedelta(days=6) <= g.last_day for g in gaps):
            for key, values in week_cols.items():
                if key not in ("week", "days"):
                    values[i] = None
    latest = dates[-1]
    for g in gaps:
        if g.last_day >= latest:
            latest = g.first_day - dt.timedelta(days=1)
    return latest


def _day(day: dt.date, year: bool = False) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}" + (f" {day.year}" if year else "")


def _count(n: float) -> str:
    return f"{n:.0f}" if float(n).is_integer() else f"{n:.1f}"


def week_verdict(plan: queries.WeekPlan, units: str) -> dict[str, Any]:
    """"What should I do this week?": the flags' thresholds (docs/metrics.md, Flags) with the athlete's
    numbers filled in, as sentences in the display units."""
    def dist(m: float | None) -> str:
        return fmt.distance(m, units)

    lines: list[dict[str, str]] = []
    if plan.long_run_limit_m is not None and plan.longest_run_30d_date is not None:
        lines.append({"key": "long_run", "text": (
            f"Longest run: up to {dist(plan.long_run_limit_m)}, 110 % of your longest run of the last 30 days "
            f"({dist(plan.longest_run_30d_m)} on {_day(plan.longest_run_30d_date)}). Longer is a long-run spike, "
            f"the best-supported running-injury signal.")})
    else:
        lines.append({"key": "long_run", "text": (
            "Longest run: no run in the last 30 days, so no long-run reference; start short and build back "
            "gradually.")})
    if plan.week_run_limit_m is not None and plan.last_week_run_m is not None:
        left = plan.week_run_limit_m - plan.week_run_m
        lines.append({"key": "week_distance", "text": (
            f"Running this week: up to {dist(plan.week_run_limit_m)} in all, 30 % over last week's "
            f"{dist(plan.last_week_run_m)}; {dist(plan.week_run_m)} so far, "
            + (f"{dist(left)} to go." if left > 0 else "already over it.")
            + " Weekly ramps are a weaker signal than single long runs.")})
    else:
        lines.append({"key": "week_distance", "text": (
            f"Running this week: {dist(plan.week_run_m)} so far; last week is no reference (not a complete week "
            f"with running).")})
    n = plan.lower_sessions_week
    sessions = f"{n} session{'' if n == 1 else 's'}"
    if plan.lower_sessions_usual is not None and plan.usual_weeks:
        usual = plan.lower_sessions_usual
        weeks = f"the last {plan.usual_weeks} complete week{'' if plan.usual_weeks == 1 else 's'}"
        lines.append({"key": "lower_strength", "text": (
            f"Lower-body strength: {sessions} so far this week; usually {_count(usual)} a week "
            f"(median of {weeks}).")})
    else:
        lines.append({"key": "lower_strength", "text": (
            f"Lower-body strength: {sessions} so far this week; no complete week yet to compare with.")})
    note = None
    if plan.last_workout_date is not None:
        idle = (plan.as_of - plan.last_workout_date).days
        if idle >= queries.BREAK_DAYS:
            note = (f"No workout since {_day(plan.last_workout_date, True)} ({idle} days): after a break, build "
                    f"distance back gradually.")
    return {"as_of": plan.as_of.isoformat(), "week_start": plan.week_start.isoformat(),
            "days_into_week": plan.days_into_week,
            "title": (f"Week of {_day(plan.week_start, True)}, day {plan.days_into_week} of 7 "
                      f"(as of {_day(plan.as_of)})"),
            "lines": lines, "note": note}


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
    js = _static("uplot", "uPlot.iife.min.js")
    css = _static("uplot", "uPlot.min.css")
    if "</script" in js.lower() or "</style" in css.lower():  # would end the inline element early
        raise DashboardError("the vendored uPlot files cannot be inlined (they contain a closing tag)")
    stamp = (f"published at {data['published_at'] or 'unknown'} · as of {data['as_of_date'] or 'unknown'}")
    # flows/static/dashboard/page.html holds each placeholder __NAME__ once; they are filled in one
    # pass, so a value that spells a placeholder (an athlete id may) is never filled in again
    values = {"__STAMP__": html.escape(stamp), "__UPLOT_CSS__": css,
              "__APP_CSS__": _static("dashboard", "dashboard.css"), "__DATA__": _json_for_script(data),
              "__UPLOT_JS__": js, "__APP_JS__": _static("dashboard", "dashboard.js")}
    page = re.sub("|".join(values), lambda m: values[m.group(0)], _static("dashboard", "page.html"))
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
    server: DashboardServer

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
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

    def log_message(self, format: str, *args: Any) -> None:
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
        if isinstance(host, bytes):  # (the types allow it for any socket; an IPv4 server's host is text)
            host = host.decode()
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

