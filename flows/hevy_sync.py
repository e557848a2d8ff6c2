"""Hevy sync as plain Python: the client (connectors/hevy) wired to the warehouse (hevy_loader).

One run (docs/hevy.md): on the first sync, with ``--full``, or to finish a full listing a 429
stopped, every workout is listed (``GET /v1/workouts``, page by page, each page committed with the
page reached); a finished full listing marks deleted the stored workouts it no longer lists. Else
the events feed since the last complete run (minus ``hevy.lookback_hours``) brings the workouts
updated and deleted since; the cursor moves only when the whole feed was read, so a stopped run
reads it again next time (storing an unchanged workout again changes and counts nothing). Then the
exercise templates (every ``templates_every_days``, on a full sync, or when a workout uses one not
stored) and the body measurements.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import httpx

from runlift.connectors.hevy.client import KEY_HELP, HevyClient, HevyError, RateLimited
from runlift.connectors.hevy.rows import deleted_event, measurement_row, template_row, workout_rows
from runlift.connectors.redact import redact
from runlift.flows.settings import HevySettings, Settings, SettingsError
from runlift.warehouse import db as wdb
from runlift.warehouse import hevy_loader as hl
from runlift.warehouse.lock import writer

Log = Callable[[str], None]


@dataclass
class HevySyncResult:
    athlete_id: str
    mode: str | None = None
    api_calls: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    templates: int = 0
    measurements: int = 0
    problems: list[str] = field(default_factory=list)
    status: str = "complete"  # complete | paused | failed
    message: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def lines(self) -> list[str]:
        out = [f"hevy {self.athlete_id}: {self.status}; {self.mode or 'no'} listing, {self.api_calls} API calls; "
               f"{self.new} new, {self.updated} updated, {self.deleted} deleted; {self.templates} exercise templates, "
               f"{self.measurements} body measurements added or changed"]
        if self.message:
            out.append(f"hevy {self.athlete_id}: {self.message}")
        out += [f"hevy {self.athlete_id}: {p}" for p in self.problems[:20]]
        if len(self.problems) > 20:
            out.append(f"hevy {self.athlete_id}: ... and {len(self.problems) - 20} more notes")
        return out


def hevy_enabled(settings: Settings, athlete_id: str) -> bool:
    return bool(settings.hevy_key(athlete_id))


def make_client(settings: Settings, athlete_id: str, *, sleep: Callable[[float], None] = time.sleep,
                transport: httpx.BaseTransport | None = None) -> HevyClient:
    key = settings.hevy_key(athlete_id)
    if not key:
        raise SettingsError(f"no Hevy API key for athlete {athlete_id!r}; {KEY_HELP}")
    cfg = settings.hevy
    return HevyClient(base_url=cfg.base_url, api_key=key, timeout_s=cfg.timeout_s, retries=cfg.retries,
                      backoff_s=cfg.backoff_s, min_interval_s=cfg.min_interval_s, transport=transport, sleep=sleep)


def _iso(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def sync_athlete(con: duckdb.DuckDBPyConnection, client: HevyClient, cfg: HevySettings, athlete_id: str, *,
                 full: bool = False, log: Log = lambda s: None) -> HevySyncResult:
    """One Hevy sync run for one athlete on an open warehouse."""
    t0 = time.perf_counter()
    started = wdb.utcnow()
    result = HevySyncResult(athlete_id)
    state = hl.load_state(con, athlete_id)
    resuming = state.full_listing_page is not None
    if (full and not resuming) or (state.events_since is None and not resuming):
        state.full_listing_page, state.full_listing_started = 1, started
    result.mode = "full" if state.full_listing_page is not None else "events"

    def rows_of(items: list[object]) -> list[tuple[dict[str, object], list[dict[str, object]]]]:
        out = []
        for item in items:
            rows = workout_rows(item)
            if rows is None:
                result.problems.append("a workout without an id: skipped")
                continue
            result.problems += rows.problems
            out.append((rows.workout, rows.sets))
        return out

    try:
        if state.full_listing_page is not None:
            # resuming: one page of overlap, as a workout deleted meanwhile moves the others up a place
            page = max(1, state.full_listing_page - 1) if resuming else 1
            listing_started = state.full_listing_started or started
            while True:
                page_count, items = client.workouts(page)
                last = page >= page_count or not items
                state.full_listing_page = None if last else page + 1
                if last:  # the feed continues from the listing's start, committed with its last page
                    state.events_since, state.last_full_listing_at, state.full_listing_started = (
                        listing_started, wdb.utcnow(), None)
                new, updated = hl.save_workouts(con, state, rows_of(items), listed=True)
                result.new += new
                result.updated += updated
                log(f"hevy: listed page {page} of {page_count} ({result.new} new, {result.updated} updated)")
                if last:
                    break
                page += 1
            result.deleted += hl.mark_unlisted(con, state, listing_started)
        else:
            assert state.events_since is not None
            since = _iso(state.events_since - dt.timedelta(hours=cfg.lookback_hours))
            page = 1
            while True:
                page_count, events = client.events(since, page)
                updates = [e.get("workout") for e in events if isinstance(e, dict) and e.get("type") == "updated"]
                deletions = [d for d in (deleted_event(e) for e in events) if d is not None]
                odd = len(events) - len(updates) - len(deletions)
                if odd:
                    result.problems.append(f"{odd} events of an unknown type on page {page}: skipped")
                last = page >= page_count or not events
                if last:
                    state.events_since = started
                new, updated = hl.save_workouts(con, state, rows_of(updates))
                result.new += new
                result.updated += updated
                result.deleted += hl.mark_deleted(con, state, deletions)
                log(f"hevy: events page {page} of {max(page_count, 1)} ({len(events)} events)")
                if last:
                    break
                page += 1

        stale = (state.templates_synced_at is None or full or wdb.utcnow() - state.templates_synced_at
                 >= dt.timedelta(days=cfg.templates_every_days))
        if stale or hl.unknown_template_ids(con, athlete_id):
            page = 1
            while True:
                page_count, templates = client.exercise_templates(page)
                last = page >= page_count or not templates
                if last:
                    state.templates_synced_at = wdb.utcnow()
                result.templates += hl.save_templates(con, state, [r for r in map(template_row, templates) if r])
                if last:
                    break
                page += 1

        if cfg.body_measurements:
            page = 1
            while True:
                page_count, measurements = client.body_measurements(page)
                result.measurements += hl.save_measurements(
                    con, state, [r for r in map(measurement_row, measurements) if r])
                if page >= page_count or not measurements:
                    break
                page += 1
    except RateLimited as exc:
        result.status, result.message = "paused", str(exc)
    except HevyError as exc:  # 401, unavailable after retries, odd answers
        result.status, result.message = "failed", str(exc)
    except Exception as exc:  # anything unforeseen still ends as a recorded, failed run
        result.status, result.message = "failed", f"{type(exc).__name__}: {exc}"
        state = hl.load_state(con, athlete_id)  # the failed step was rolled back
    result.message = redact(result.message, client.secrets())
    result.problems = [redact(p, client.secrets()) for p in result.problems]
    result.api_calls = client.calls
    result.seconds = time.perf_counter() - t0
    hl.finish_run(con, state, {
        "run_id": uuid.uuid4().hex, "started_at": started, "finished_at": wdb.utcnow(), "mode": result.mode,
        "api_calls": result.api_calls, "new": result.new, "updated": result.updated, "deleted": result.deleted,
        "templates": result.templates, "measurements": result.measurements, "status": result.status,
        "message": result.message})
    return result


def sync_paths(settings: Settings, athlete_id: str, *, full: bool = False, log: Log = lambda s: None,
               lock_timeout_s: float = 600.0, transport: httpx.BaseTransport | None = None) -> HevySyncResult:
    """Open the warehouse under the write lock and sync one athlete from Hevy."""
    with make_client(settings, athlete_id, transport=transport) as client, \
            writer(settings.target, athlete_id, lock_timeout_s) as con:
        result = sync_athlete(con, client, settings.hevy, athlete_id, full=full, log=log)
        wdb.checkpoint(con)
        return result
