"""The dashboard page: data in display units, no network, served on 127.0.0.1, and drawn in a real
headless Chromium (Playwright) at phone and desktop widths with no console errors.

Two published files: the demo's (``run_demo``, 8 weeks, a Prefect flow on the session's test
server) and a hand-made one (``marts_fixtures.Warehouse``, built and published in about 2 s) with
three athletes: alice runs and lifts, bob only runs, carl has no workouts at all.
Screenshots go to ``test-artifacts/dashboard-*.png`` under the project root.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import queue
import re
import threading
from pathlib import Path

import duckdb
import pytest

from runlift.flows import units as fmt
from runlift.flows.dashboard import DashboardError, render_dashboard, serve, write_dashboard_file
from runlift.flows.settings import load_settings
from runlift.warehouse.publish import publish

from helpers import q
from marts_fixtures import Warehouse, athlete, d

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORTS = [(390, 844), (1280, 900)]
CHARTS = ["volume", "share", "impact", "acwr", "pmc", "sets"]
DEMO_END = dt.date(2026, 3, 18)  # a Wednesday: the latest week is 3 days old


def page_data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="runlift-data">(.*?)</script>', page, re.S)
    assert m, "no embedded JSON"
    return json.loads(m.group(1))


# --- published files -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(prefect_server, tmp_path_factory):
    """The demo's published file (8 weeks ending DEMO_END) and its settings."""
    from runlift.flows.demo import run_demo

    folder = tmp_path_factory.mktemp("dash-demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUNLIFT_HOME", str(folder / "home"))
        run_demo(folder, weeks=8, end_date=DEMO_END, echo=lambda _m: None)
    return load_settings(folder / "runlift.toml", athlete="demo", env={})


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """Three athletes by hand: alice runs and lifts, bob only runs, carl has no workouts."""
    folder = tmp_path_factory.mktemp("dash-mixed")
    w = Warehouse(folder / "w.duckdb")
    start = dt.datetime(2025, 3, 3, 7)
    for day in range(42):
        at = start + dt.timedelta(days=day)
        if day % 7 in (0, 2, 5):
            w.fit("alice", at, distance_m=8000 + 500 * (day % 5), strides=4000, workout_rpe=60)
            w.strava("bob", 1000 + day, at, distance_m=10000 + 300 * (day % 3), cadence_rpm=85)
        if day % 7 in (1, 4):
            w.fit("alice", at + dt.timedelta(hours=10), sport="training", sub_sport="strength_training",
                  distance_m=None, moving_s=2700, workout_rpe=70,
                  sets=[("squat", 5, 60.0)] * 3 + [("deadlift", 5, 80.0)] * 3 + [("bench_press", 8, 40.0)] * 3
                  + [("plank", 3, 0.0)] * 2)
    w.build(d("2025-04-16"), [athlete("alice"), athlete("bob"), athlete("carl")])
    target = folder / "mixed.published.duckdb"
    publish(w.con, target)
    w.close()
    return target


def latest_week(published: Path, athlete_id: str) -> dict:
    con = duckdb.connect(str(published), read_only=True)
    try:
        cur = con.execute("""SELECT * FROM marts.weekly_training_balance WHERE athlete_id = ?
                             ORDER BY week_start DESC LIMIT 1""", [athlete_id])
        return dict(zip([c[0] for c in cur.description], cur.fetchone(), strict=True))
    finally:
        con.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the page, without a browser -------------------------------------------------------------------

def test_latest_week_in_km_and_in_miles(demo):
    week = latest_week(demo.published_path, "demo")
    metric = page_data(render_dashboard(demo.published_path, "metric"))
    imperial = page_data(render_dashboard(demo.published_path, "imperial"))
    for data, per_unit, dist_unit, mass_unit, per_kg in ((metric, 1000.0, "km", "kg", 1.0),
                                                         (imperial, fmt.METRES_PER_MILE, "mi", "lb", fmt.KG_PER_LB)):
        assert data["units"] == {"system": "metric" if dist_unit == "km" else "imperial",
                                 "distance": dist_unit, "mass": mass_unit}
        (a,) = data["athletes"]
        w = a["weekly"]
        assert w["week"][-1] == week["week_start"].isoformat()
        assert w["run_distance"][-1] == pytest.approx(week["run_distance_m"] / per_unit, abs=0.006)
        assert w["longest_run"][-1] == pytest.approx(week["longest_run_m"] / per_unit, abs=0.006)
        assert w["runs"][-1] == week["run_count"]
        assert w["gym_sessions"][-1] == week["strength_sessions"]
        assert w["impact"][-1] == pytest.approx(week["impact_load_kbw"], abs=0.06)
        assert max(w["volume_load"]) > 0
        # every week's volume in the display mass unit
        vols = [r[0] for r in q(demo.published_path, "SELECT strength_volume_load_kg "
                                                     "FROM marts.weekly_training_balance ORDER BY week_start")]
        assert w["volume_load"] == pytest.approx([v / per_kg for v in vols], abs=0.06)
    km = metric["athletes"][0]["weekly"]["run_distance"][-1]
    mi = imperial["athletes"][0]["weekly"]["run_distance"][-1]
    assert mi == pytest.approx(km * 1000 / fmt.METRES_PER_MILE, abs=0.01)


def test_timestamp_flags_and_periods(demo):
    page = render_dashboard(demo.published_path, "metric")
    data = page_data(page)
    con = duckdb.connect(str(demo.published_path), read_only=True)
    published_at, as_of = con.execute("SELECT published_at, as_of_date FROM ops.published").fetchone()
    flags = con.execute("SELECT date, severity, explanation FROM marts.training_flags ORDER BY date DESC").fetchall()
    con.close()
    stamp = f"published at {published_at:%Y-%m-%d %H:%M} UTC · as of {as_of.isoformat()}"
    assert stamp in page  # in the HTML itself, not only drawn by the script
    assert data["as_of_date"] == DEMO_END.isoformat() == as_of.isoformat()
    got = [(f["date"], f["severity"], f["explanation"]) for f in data["athletes"][0]["flags"]]
    assert sorted(got, reverse=True) == sorted(((str(a), b, c) for a, b, c in flags), reverse=True)
    assert data["periods"] == [8, 16, 52, 0] and data["default_period"] == 16
    assert data["default_athlete"] == "demo"


def test_no_network_urls_for_scripts_or_styles(demo):
    page = render_dashboard(demo.published_path, "metric")
    tags = re.findall(r"<(?:script|link|img|iframe|style)\b[^>]*>", page, re.I)
    assert tags
    for tag in tags:
        assert not re.search(r"\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", tag, re.I), tag
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", page, re.I), "scripts must be inline"
    assert not re.search(r"@import|url\(\s*[\"']?\s*(?:https?:)?//", page, re.I)
    assert "default-src 'none'" in page  # the page's CSP forbids any fetch, even if something tried
    assert "uPlot" in page and page.count("<script") == 3


def test_write_dashboard_file_reads_only_the_published_file(demo):
    before = sha256(demo.published_path)
    path = write_dashboard_file(demo)
    assert path == demo.dashboard_path and path.is_file()
    assert page_data(path.read_text(encoding="utf-8"))["athletes"][0]["id"] == "demo"
    assert sha256(demo.published_path) == before
    assert not list(path.parent.glob(f".{path.name}.*"))  # no temp file left behind


def test_missing_published_file_is_a_clear_error(tmp_path):
    with pytest.raises(DashboardError, match="no published file"):
        render_dashboard(tmp_path / "nope.duckdb", "metric")
    with pytest.raises(ValueError):
        render_dashboard(tmp_path / "nope.duckdb", "furlongs")


def test_placeholder_names_in_the_data_stay_data(tmp_path):
    """Athlete ids are free text within their rule and may spell a placeholder of the page template:
    every placeholder is filled once, from the template only, never inside the data."""
    w = Warehouse(tmp_path / "w.duckdb")
    ids = ["a__UPLOT_JS__", "b__APP_JS__", "c__APP_CSS__", "d__DATA__"]
    for n, aid in enumerate(ids):
        w.fit(aid, dt.datetime(2025, 3, 3 + n, 7), distance_m=8000, strides=4000)
    w.build(d("2025-03-16"), [athlete(aid) for aid in ids])
    publish(w.con, tmp_path / "p.duckdb")
    w.close()
    page = render_dashboard(tmp_path / "p.duckdb", "metric")
    data = page_data(page)
    assert [a["id"] for a in data["athletes"]] == ids
    assert [a["workouts"] for a in data["athletes"]] == [1, 1, 1, 1]
    uplot = (ROOT / "flows" / "static" / "uplot" / "uPlot.iife.min.js").read_text(encoding="utf-8")
    app_js = (ROOT / "flows" / "static" / "dashboard" / "dashboard.js").read_text(encoding="utf-8")
    assert page.count(uplot) == 1 and page.count(app_js) == 1
    assert f"<script>{uplot}</script>" in page and f"<script>\n{app_js}</script>" in page


def test_athletes_without_strength_or_workouts(mixed):
    data = page_data(render_dashboard(mixed, "imperial", athlete="bob"))
    by_id = {a["id"]: a for a in data["athletes"]}
    assert sorted(by_id) == ["alice", "bob", "carl"]
    assert data["default_athlete"] == "bob"
    assert max(by_id["alice"]["weekly"]["volume_load"]) > 0
    assert set(by_id["bob"]["weekly"]["volume_load"]) == {0}
    assert all(v is None for v in by_id["bob"]["weekly"]["pa_ratio"])
    assert by_id["carl"]["weekly"]["week"] == [] and by_id["carl"]["daily"]["date"] == []
    assert set(by_id["carl"]["weekly"]) == set(by_id["alice"]["weekly"])  # every column, empty
    bob_week = latest_week(mixed, "bob")
    assert by_id["bob"]["weekly"]["run_distance"][-1] == pytest.approx(
        bob_week["run_distance_m"] / fmt.METRES_PER_MILE, abs=0.006)


# --- serving ---------------------------------------------------------------------------------------

@pytest.fixture
def served(demo):
    """serve(...) in a thread; yields (server, printed lines)."""
    ready: queue.Queue = queue.Queue()
    lines: list[str] = []
    thread = threading.Thread(target=serve, args=(demo,), daemon=True,
                              kwargs={"port": 0, "ready": ready.put, "echo": lines.append, "quiet": True})
    thread.start()
    server = ready.get(timeout=30)
    yield server, lines
    server.shutdown()
    thread.join(10)
    assert not thread.is_alive()


def get(server, path: str, host: str | None = None) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    try:
        conn.request("GET", path, headers={"Host": host} if host else {})
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        conn.close()


def test_serve_regenerates_on_every_request_and_serves_nothing_else(demo, served):
    server, lines = served
    assert server.server_address[0] == "127.0.0.1"
    assert any(server.url in line for line in lines), lines
    demo.dashboard_path.unlink()
    status, body, headers = get(server, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert demo.dashboard_path.is_file()  # drawn again for this request
    assert page_data(body.decode())["athletes"][0]["id"] == "demo"
    assert get(server, "/?athlete=demo")[0] == 200
    for path in ("/favicon.ico", "/index.html", "/runlift.published.duckdb", "/../runlift.toml", "/static/x.js"):
        assert get(server, path)[0] == 404, path
    assert get(server, "/", host="evil.example:80")[0] == 403  # DNS rebinding
    assert get(server, "/", host=f"localhost:{server.server_address[1]}")[0] == 200


def test_serve_refuses_other_interfaces(demo):
    with pytest.raises(ValueError, match="127.0.0.1"):
        serve(demo, host="0.0.0.0")


# --- in a browser ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install -y chromium` (as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright module is missing: `pip install playwright` "
                    "(no `playwright install`: the tests use the system's /usr/bin/chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page with its console errors and any request that tried to leave file:// or our server."""

    def __init__(self, browser, width: int, height: int, allowed: tuple[str, ...]):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}")
                     if m.type in ("error", "assert") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("requestfailed", lambda r: self.outside.append(f"failed: {r.url}")
                     if not r.url.startswith(allowed) else None)

        def route(r):
            if r.request.url.startswith(allowed):
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.wait()

    def wait(self) -> None:
        self.page.wait_for_selector("body[data-ready='1']")
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.chart')].every(e => e.dataset.drawn && e.dataset.drawn !== '0')")

    def charts(self) -> dict[str, dict]:
        return {c["name"]: c for c in self.page.evaluate("""() => [...document.querySelectorAll('.chart')].map(e => ({
            name: e.dataset.chart, drawn: e.dataset.drawn, points: Number(e.dataset.points || 0),
            boxWidth: e.clientWidth, text: e.innerText,
            canvases: [...e.querySelectorAll('canvas')].map(c => {
              const r = c.getBoundingClientRect(); return {w: c.width, h: c.height, cssW: r.width, cssH: r.height}; }),
            axisLabels: JSON.parse(e.dataset.axes || '[]'),
            legend: [...e.querySelectorAll('.u-label')].map(l => l.innerText) }))""")}

    def tile(self, key: str) -> str:
        return self.page.inner_text(f"#tiles [data-key={key}] .value")

    def select(self, selector: str, value: str) -> None:
        self.page.select_option(selector, value)
        self.wait()

    def close(self) -> None:
        self.page.close()


def assert_all_drawn(pg: Page, width: int) -> dict[str, dict]:
    charts = pg.charts()
    assert sorted(charts) == sorted(CHARTS)
    for name, c in charts.items():
        assert c["drawn"] == "1", (name, c["text"])
        assert c["points"] > 0, name
        assert c["canvases"], name
        for cv in c["canvases"]:
            assert cv["w"] > 0 and cv["h"] > 0 and cv["cssW"] > 0, (name, cv)
            assert cv["cssW"] <= c["boxWidth"] + 1 <= width, (name, cv, c["boxWidth"])  # fits its card
    scroll = pg.page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"horizontal overflow at {width}px: {scroll}"
    return charts


@pytest.mark.parametrize("source", ["file", "served"])
def test_dashboard_draws_in_chromium_at_phone_and_desktop_width(browser, demo, source):
    week = latest_week(demo.published_path, "demo")
    write_dashboard_file(demo)
    server = thread = None
    if source == "file":
        url = demo.dashboard_path.as_uri()
        allowed: tuple[str, ...] = ("file://",)
    else:
        ready: queue.Queue = queue.Queue()
        thread = threading.Thread(target=serve, args=(demo,), daemon=True,
                                  kwargs={"ready": ready.put, "echo": lambda _m: None, "quiet": True})
        thread.start()
        server = ready.get(timeout=30)
        url, allowed = server.url, (server.url,)
        assert url.startswith("http://127.0.0.1:")
    try:
        for width, height in VIEWPORTS:
            pg = Page(browser, width, height, allowed)
            pg.open(url)
            charts = assert_all_drawn(pg, width)
            labels = " | ".join(label for c in charts.values() for label in c["axisLabels"])
            for unit_label in ("Running distance (km)", "Volume load (kg)", "Share of session load (%)",
                               "Impact load (kBW)", "Training load (AU)", "Hard sets (sets/week)"):
                assert unit_label in labels, labels
            shown = pg.tile("run_distance")
            assert shown.endswith(" km")
            assert float(shown.split()[0].replace(",", "")) == pytest.approx(week["run_distance_m"] / 1000, abs=0.051)
            assert int(pg.page.get_attribute("#flags", "data-rows")) > 0
            assert pg.page.is_hidden("#athlete-control")  # one athlete: no selector
            assert "published at" in pg.page.inner_text("#stamp")
            pg.page.screenshot(path=str(ARTIFACTS / f"dashboard-{source}-{width}.png"), full_page=True)
            # every period draws; "all" has at least as many points as 8 weeks
            pg.select("#period", "8")
            eight = pg.charts()
            pg.select("#period", "0")
            everything = assert_all_drawn(pg, width)
            assert everything["impact"]["points"] >= eight["impact"]["points"] > 0
            if width > 400:  # charts follow the window down to phone width
                pg.page.set_viewport_size({"width": 390, "height": 844})
                pg.page.wait_for_function("() => document.querySelector('#chart-volume canvas')"
                                          ".getBoundingClientRect().width < 390")
                assert_all_drawn(pg, 390)
            assert pg.errors == [], pg.errors
            assert pg.outside == [], pg.outside
            pg.close()
    finally:
        if server is not None:
            server.shutdown()
            thread.join(10)


def test_athlete_selector_and_empty_charts_without_errors(browser, mixed, tmp_path):
    page_file = tmp_path / "mixed.html"
    page_file.write_text(render_dashboard(mixed, "imperial", athlete="alice"), encoding="utf-8")
    pg = Page(browser, 390, 844, ("file://",))
    pg.open(page_file.as_uri())
    assert pg.page.is_visible("#athlete")
    assert pg.page.eval_on_selector("#athlete", "s => [...s.options].map(o => o.value)") == ["alice", "bob", "carl"]
    assert_all_drawn(pg, 390)
    assert pg.tile("run_distance").endswith(" mi") and pg.tile("volume_load").endswith(" lb")
    pg.page.screenshot(path=str(ARTIFACTS / "dashboard-alice-390.png"), full_page=True)

    pg.select("#athlete", "bob")  # runs only
    charts = pg.charts()
    assert charts["sets"]["drawn"] == "empty" and "no data" in charts["sets"]["text"]
    assert charts["sets"]["canvases"] == [] and charts["sets"]["points"] == 0
    for name in ("volume", "share", "impact", "acwr", "pmc"):
        assert charts[name]["drawn"] == "1" and charts[name]["points"] > 0, name
    assert "No strength volume" in charts["volume"]["text"]
    assert "Running distance (mi)" in charts["volume"]["axisLabels"]
    assert pg.tile("gym_sessions") == "0"
    assert "athlete=bob" in pg.page.url
    pg.page.screenshot(path=str(ARTIFACTS / "dashboard-no-strength-390.png"), full_page=True)

    pg.select("#athlete", "carl")  # no workouts at all
    charts = pg.charts()
    assert all(c["drawn"] == "empty" and c["points"] == 0 for c in charts.values()), charts
    assert "No workouts yet" in pg.page.inner_text("#latest")

    pg.page.reload()  # the choice survives a reload (in the URL)
    pg.wait()
    assert pg.page.eval_on_selector("#athlete", "s => s.value") == "carl"
    assert pg.errors == [], pg.errors
    assert pg.outside == [], pg.outside
    pg.close()
