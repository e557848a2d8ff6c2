"""Strava sync as plain Python: the client (connectors) wired to the warehouse (save).

One run: list activities (incremental from the high-water mark minus a look-back window, or a
full listing that also finds deletions), then detail calls (when on), then streams for runs,
newest first. Every page, stream and detail is committed with the cursor and the rate budget, so
the next run resumes where this one stopped. Before a rate-limit window would be exceeded the run
stops cleanly (status ``paused``); ``wait=True`` sleeps through windows instead (one-off backfills).
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx

from runlift.connectors.redact import redact
from runlift.connectors.strava.client import (
    FUTURE_SLACK_S,
    PER_PAGE,
    ListingStalled,
    NotFound,
    RateBudget,
    RateLimited,
    StravaClient,
    StravaError,
    next_cursor,
)
from runlift.connectors.strava.rows import activity_rows, detail_row, gear_row, missing_gear_row, stream_rows
from runlift.connectors.strava.tokens import TokenStore
from runlift.flows.settings import Settings, SettingsError, StravaSettings
from runlift.warehouse import db as wdb
from runlift.warehouse import strava_loader as sl
from runlift.warehouse.lock import writer

Log = Callable[[str], None]


@dataclass
class SyncResult:
    athlete_id: str
    listing_mode: str | None = None
    api_calls: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    streams: int = 0
    details: int = 0
    gear: int = 0
    skipped_payloads: list[str] = field(default_factory=list)
    status: str = "complete"  # complete | paused | failed
    message: str = ""
    resume_at: dt.datetime | None = None
    seconds: float = 0.0
    waited_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def lines(self) -> list[str]:
        out = [f"strava {self.athlete_id}: {self.status}; {self.listing_mode or 'no'} listing, "
               f"{self.api_calls} API calls; {self.new} new, {self.updated} updated, {self.deleted} deleted; "
               f"streams for {self.streams}, details for {self.details}, gear {self.gear}"]
        if self.message:
            out.append(f"strava {self.athlete_id}: {self.message}")
        out += [f"strava {self.athlete_id}: {p}" for p in self.skipped_payloads]
        return out


def make_client(settings: Settings, athlete_id: str, *, clock: Callable[[], float] = time.time,
                sleep: Callable[[float], None] = time.sleep,
                transport: httpx.BaseTransport | None = None, warn: Log | None = None,
                before_call: Callable[[], None] | None = None) -> StravaClient:
    """The Strava client for one athlete; ``warn`` hears about a token file that had to be tightened;
    ``before_call`` runs before every API request (a squad's shared rate limit, runlift.flows.squad)."""
    cfg = settings.strava
    if not cfg.client_id or not cfg.client_secret:
        raise SettingsError("setting `strava.client_id` / `strava.client_secret` is missing; set STRAVA_CLIENT_ID and "
                            "STRAVA_CLIENT_SECRET (or [strava] in the settings file) from your Strava API application")
    tokens = TokenStore(settings.token_file(athlete_id), os.environ.get("STRAVA_REFRESH_TOKEN"),
                        **({"warn": warn} if warn else {}))
    budget = RateBudget(window_s=cfg.rate_window_s, day_s=cfg.rate_day_s, headroom=cfg.rate_headroom, clock=clock)
    return StravaClient(base_url=cfg.base_url, client_id=cfg.client_id, client_secret=cfg.client_secret,
                        tokens=tokens, budget=budget,
                        timeout=httpx.Timeout(cfg.timeout_s, connect=min(cfg.timeout_s, 10.0)),
                        retries=cfg.retries, transport=transport, sleep=sleep, clock=clock, before_call=before_call)


def _choose_listing(state: sl.SyncState, cfg: StravaSettings, full: bool, now: float,
                    streams_pending: bool) -> tuple[str | None, int, bool]:
    """(mode, cursor, is_new): resume a listing under way, else start a full or incremental one.

    Mode None: no listing this run. That happens only mid-backfill (streams still pending) when a
    listing finished less than ``relist_after_s`` ago, so a backfill spread over many rate-limit
    windows spends no call listing again what it has just listed.
    """
    if state.listing_mode and not (full and state.listing_mode != "full"):
        return state.listing_mode, int(state.listing_cursor or 0), False
    if state.high_water_start is not None and state.high_water_start > time.time() + FUTURE_SLACK_S:
        state.high_water_start = None  # set from a future-dated activity (older runlift): list everything
    today = dt.datetime.fromtimestamp(now, dt.UTC).replace(tzinfo=None)
    due = state.last_full_listing_at is None or (
        today - state.last_full_listing_at >= dt.timedelta(days=cfg.full_listing_every_days))
    if full or due or state.high_water_start is None:
        return "full", 0, True
    if (streams_pending and state.last_listing_at is not None
            and (today - state.last_listing_at).total_seconds() < cfg.relist_after_s):
        return None, 0, False
    return "incremental", max(0, state.high_water_start - cfg.lookback_days * 86400), True


def sync_athlete(con: duckdb.DuckDBPyConnection, client: StravaClient, cfg: StravaSettings, athlete_id: str, *,
                 full: bool = False, wait: bool = False, log: Log = lambda s: None,
                 max_wait_s: float = 86400.0) -> SyncResult:
    """One Strava sync run for one athlete on an open warehouse."""
    t0 = time.perf_counter()
    started = wdb.utcnow()
    app = client.client_id
    result = SyncResult(athlete_id)
    saved = sl.load_budget(con, app)
    if saved:
        for k, v in saved.items():
            setattr(client.budget, k, v)
    state = sl.load_state(con, athlete_id)
    pending_before = bool(sl.pending_streams(con, athlete_id, cfg.stream_sport_types))
    mode, cursor, is_new = _choose_listing(state, cfg, full, client.clock(), pending_before)
    result.listing_mode = mode
    if is_new and mode is not None:
        sl.start_listing(con, state, mode, cursor)
    budget = client.budget.as_dict
    secrets = client.secrets()

    def with_wait(step: Callable[[], None]) -> None:
        while True:
            try:
                step()
                return
            except RateLimited as exc:
                if not wait or exc.resume_at is None:
                    raise
                pause = max(1.0, (exc.resume_at - wdb.utcnow()).total_seconds() + 1)
                if result.waited_s + pause > max_wait_s:
                    raise
                log(f"rate limit reached; waiting {pause:.0f} s until {exc.resume_at:%H:%M:%S} UTC (--wait)")
                result.waited_s += pause
                client.sleep(pause)

    try:
        # 1. the listing, page by page, each page committed with the cursor
        done = state.listing_mode is None

        def one_page() -> None:
            nonlocal done
            cursor = int(state.listing_cursor or 0)
            page = client.list_activities(after=cursor, per_page=PER_PAGE)
            last = len(page) < PER_PAGE
            stalled = False
            if not last:
                state.listing_cursor = next_cursor(page, cursor, horizon=int(time.time()) + FUTURE_SLACK_S)
                stalled = state.listing_cursor <= cursor
            new, updated, problems = sl.save_page(con, state, activity_rows(page), app=app, budget=budget(),
                                                   full_listing=state.listing_mode == "full")
            result.new += new
            result.updated += updated
            result.skipped_payloads += [redact(p, secrets) for p in problems]
            if stalled:
                raise ListingStalled(
                    f"Strava's listing did not advance past after={cursor} "
                    f"({dt.datetime.fromtimestamp(cursor, dt.UTC):%Y-%m-%d %H:%M} UTC): a full page with no activity "
                    "starting later (the server ignores `after` or sends no usable dates); stopped, the next run "
                    "asks again from there")
            if last:
                result.deleted += sl.finish_listing(con, state)
                done = True
            log(f"listed {len(page)} activities ({result.new} new, {result.updated} updated)")

        while not done:
            with_wait(one_page)
        sl.mark_without_streams(con, athlete_id, cfg.stream_sport_types)

        # 2. detail calls (off by default): device name, calories, perceived exertion
        if cfg.fetch_details:
            for activity_id in sl.pending_details(con, athlete_id):
                def one_detail(aid: int = activity_id) -> None:
                    try:
                        detail = client.activity(aid)
                    except NotFound:
                        detail = None
                    sl.save_detail(con, athlete_id, aid, detail_row(detail), app=app, budget=budget())
                    result.details += 1
                with_wait(one_detail)

        # 3. streams for runs, newest first; a manual activity has none (404 expected)
        pending = sl.pending_streams(con, athlete_id, cfg.stream_sport_types)
        for activity_id in pending:
            def one_stream(aid: int = activity_id) -> None:
                try:
                    streams = client.streams(aid, cfg.stream_keys)
                except NotFound:
                    streams = None
                sl.save_streams(con, athlete_id, aid, stream_rows(streams), app=app, budget=budget())
                result.streams += 1
            with_wait(one_stream)
            log(f"streams {result.streams} of {len(pending)}")

        # 4. gear names (GET /gear/{id}), last: when the budget runs short they wait for the next run,
        # never the activities or their streams. One call per gear id not yet known, or last asked
        # strava.gear_refresh_days ago or more (retirement and names change rarely).
        for gear_id in sl.pending_gear(con, athlete_id, cfg.gear_refresh_days):
            def one_gear(gid: str = gear_id) -> None:
                try:
                    row = gear_row(client.gear(gid)) or missing_gear_row("unusable")
                except NotFound:
                    row = missing_gear_row("not_found")
                sl.save_gear(con, athlete_id, gid, row, app=app, budget=budget())
                result.gear += 1
            with_wait(one_gear)
    except RateLimited as exc:
        result.status, result.resume_at = "paused", exc.resume_at
        result.message = f"{exc}; the next run continues where this one stopped"
    except StravaError as exc:  # inactive application, authorisation, unavailable, odd responses
        result.status, result.message = "failed", str(exc)
    except Exception as exc:  # anything unforeseen still ends as a recorded, failed run
        result.status, result.message = "failed", f"{type(exc).__name__}: {exc}"
        # the failed step's transaction was rolled back: forget what it had moved in memory (the cursor)
        state = sl.load_state(con, athlete_id)
    secrets = client.secrets() + secrets
    skipped = sum("skipped" in p for p in result.skipped_payloads)
    noted = len(result.skipped_payloads) - skipped
    if result.skipped_payloads and result.status == "complete":
        result.message = (f"activities skipped: {skipped}, stored with a note: {noted}; first: "
                          f"{result.skipped_payloads[0]}")
    result.message = redact(result.message, secrets)
    result.skipped_payloads = [redact(p, secrets) for p in result.skipped_payloads]
    result.api_calls = client.calls
    result.seconds = time.perf_counter() - t0
    sl.finish_run(con, state, {
        "run_id": uuid.uuid4().hex, "started_at": started, "finished_at": wdb.utcnow(), "listing_mode": mode,
        "api_calls": result.api_calls, "new": result.new, "updated": result.updated, "deleted": result.deleted,
        "streams": result.streams, "details": result.details, "gear": result.gear, "status": result.status,
        "message": result.message,
    }, app=app, budget=budget())
    return result


def sync_paths(settings: Settings, athlete_id: str, *, full: bool = False, wait: bool = False,
               log: Log = lambda s: None, lock_timeout_s: float = 600.0,
               before_call: Callable[[], None] | None = None) -> SyncResult:
    """Open the warehouse under the write lock and sync one athlete from Strava (``before_call``:
    see :func:`make_client`)."""
    with make_client(settings, athlete_id, warn=log, before_call=before_call) as client, \
            writer(settings.target, athlete_id, lock_timeout_s) as con:
        result = sync_athlete(con, client, settings.strava, athlete_id, full=full, wait=wait, log=log)
        wdb.checkpoint(con)
        return result


def forget_athlete(settings: Settings, athlete_id: str) -> tuple[dict[str, int], bool]:
    """Delete an athlete's Strava rows and token file."""
    token_file = Path(settings.token_file(athlete_id))  # checks the athlete id before anything is deleted
    with writer(settings.target, athlete_id) as con:
        counts = sl.forget(con, athlete_id)
        wdb.checkpoint(con)
    removed = TokenStore(token_file).delete()
    return counts, removed
