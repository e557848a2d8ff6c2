"""Garmin Connect sync as plain Python: the connector (listing, original files, weigh-ins) wired to
the FIT import and the warehouse.

One run for one athlete: list activities since the latest one fetched minus ``lookback_days``
(everything on the first run), page by page; fetch the original file of each activity not fetched
yet, oldest first, and import it through the FIT import (the same file from the watch folder or an
export archive is the same content: known, nothing added), its row in ops.garmin_activities and the
high-water mark committed in the transaction of the file's rows; then the weigh-ins from the last
day fetched minus the look-back, each range committed with its cursor. A 429 or a sign-in
challenge stops the run at once (status ``paused`` / ``failed``, one line); the next run resumes.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from runlift.connectors.fit.sources import FitSource
from runlift.connectors.garmin.client import GarminClient, GarminError, NotFound, RateLimited
from runlift.connectors.garmin.rows import ListedActivity, fit_members, listed_activity, weigh_in_rows
from runlift.connectors.garmin.tokens import GarminTokenStore
from runlift.connectors.redact import redact
from runlift.flows.fit_pipeline import ImportSummary, Outcome, _record_run, import_one
from runlift.flows.settings import GarminSettings, Settings
from runlift.warehouse import db as wdb
from runlift.warehouse import garmin_loader as gl
from runlift.warehouse.fit_loader import known_files
from runlift.warehouse.lock import writer

Log = Callable[[str], None]
WEIGH_IN_CHUNK_DAYS = 366  # one weight-service call covers at most this many days


@dataclass
class GarminResult:
    athlete_id: str
    listed: int = 0
    fetched: int = 0
    weigh_ins: int = 0
    api_calls: int = 0
    status: str = "complete"  # complete | paused | failed
    message: str = ""
    fit: ImportSummary = field(default_factory=ImportSummary)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def lines(self) -> list[str]:
        f = self.fit
        out = [f"garmin {self.athlete_id}: {self.status}; {self.api_calls} requests; {self.listed} activities listed, "
               f"{self.fetched} fetched ({f.files_new} new FIT files, {f.files_known} already imported, "
               f"{len(f.unreadable)} without a FIT file); {f.sessions} sessions, {f.sets} sets; "
               f"{self.weigh_ins} weigh-ins"]
        if self.message:
            out.append(f"garmin {self.athlete_id}: {self.message}")
        out += [f"garmin {self.athlete_id}: {s}" for s in self.skipped[:20]]
        return out


def make_client(settings: Settings, athlete_id: str, warn: Log | None = None) -> GarminClient:
    cfg = settings.garmin
    store = GarminTokenStore(settings.garmin_token_file(athlete_id), **({"warn": warn} if warn else {}))
    return GarminClient(cfg.base_url, store, pace_s=cfg.pace_s, timeout_s=cfg.timeout_s, retries=cfg.retries)


def _listing(client: GarminClient, cfg: GarminSettings, since: dt.date | None, result: GarminResult,
             log: Log) -> list[ListedActivity]:
    found: dict[int, ListedActivity] = {}
    start = 0
    while True:
        page = client.list_activities(start, cfg.page_size, since.isoformat() if since else None)
        for item in page:
            row = listed_activity(item)
            if isinstance(row, str):
                result.skipped.append(row)
            else:
                found[row.activity_id] = row
        log(f"listed {len(found)} activities")
        if len(page) < cfg.page_size:
            return sorted(found.values(), key=lambda a: (a.start_utc, a.activity_id))
        start += cfg.page_size


def _fetch(con: duckdb.DuckDBPyConnection, client: GarminClient, settings: Settings, athlete_id: str,
           activity: ListedActivity, known: set[str], result: GarminResult) -> None:
    """One activity's original file into the FIT import, its cursor row in the same transaction."""
    members: list[tuple[str, bytes]]
    why: str | None
    if activity.manual:
        members, why = [], "entered by hand: no original file"
    else:
        try:
            members, why = fit_members(client.download_original(activity.activity_id))
        except NotFound:
            members, why = [], "Garmin Connect has no original file for it"

    def cursor(c: duckdb.DuckDBPyConnection, out: Outcome) -> None:
        outcome = "no_file" if not members else out.kind
        gl.record_activity(c, athlete_id, activity.activity_id, activity.start_utc, activity.activity_type,
                           outcome, out.sha or None, why or (out.reason or None))

    blob_root = wdb.blob_dir(settings.target)
    if not members:  # nothing to import: the cursor alone, with the reason
        import_one(con, blob_root, athlete_id, FitSource(f"garmin-connect/{activity.activity_id}", None, error=why),
                   result.fit, known, also=cursor)
    for i, (name, data) in enumerate(members):
        # several FIT files in one download (rare): the cursor moves with the last one
        import_one(con, blob_root, athlete_id, FitSource(f"garmin-connect/{activity.activity_id}/{name}", data),
                   result.fit, known, also=cursor if i == len(members) - 1 else None)
    result.fetched += 1


def _weigh_ins(con: duckdb.DuckDBPyConnection, client: GarminClient, cfg: GarminSettings, athlete_id: str,
               state: gl.GarminState, today: dt.date, result: GarminResult, log: Log) -> None:
    first = (state.weigh_ins_through - dt.timedelta(days=cfg.lookback_days) if state.weigh_ins_through
             else today - dt.timedelta(days=cfg.history_days))
    while first <= today:
        last = min(today, first + dt.timedelta(days=WEIGH_IN_CHUNK_DAYS - 1))
        rows, problems = weigh_in_rows(client.weigh_ins(first.isoformat(), last.isoformat()))
        result.skipped += problems
        result.weigh_ins += gl.save_weigh_ins(con, athlete_id, first, last, rows)
        log(f"weigh-ins {first} to {last}: {len(rows)}")
        first = last + dt.timedelta(days=1)


def sync_athlete(con: duckdb.DuckDBPyConnection, client: GarminClient, settings: Settings, athlete_id: str, *,
                 log: Log = lambda s: None, today: dt.date | None = None) -> GarminResult:
    """One Garmin Connect sync run for one athlete on an open warehouse."""
    cfg = settings.garmin
    started = wdb.utcnow()
    t0 = time.perf_counter()
    result = GarminResult(athlete_id)
    state = gl.load_state(con, athlete_id)
    try:
        since = (state.high_water_start_utc - dt.timedelta(days=cfg.lookback_days)).date() \
            if state.high_water_start_utc else None
        listed = _listing(client, cfg, since, result, log)
        result.listed = len(listed)
        done = gl.fetched_ids(con, athlete_id)
        todo = [a for a in listed if a.activity_id not in done]
        known = known_files(con, athlete_id)
        for n, activity in enumerate(todo, 1):
            _fetch(con, client, settings, athlete_id, activity, known, result)
            log(f"fetched {n} of {len(todo)}")
        if cfg.weigh_ins:
            _weigh_ins(con, client, cfg, athlete_id, state, today or dt.datetime.now(dt.UTC).date(), result, log)
    except RateLimited as exc:
        result.status, result.message = "paused", str(exc)
    except GarminError as exc:
        result.status, result.message = "failed", str(exc)
    except Exception as exc:  # anything unforeseen still ends as a recorded, failed run
        result.status, result.message = "failed", f"{type(exc).__name__}: {exc}"
    result.message = redact(result.message, client.secrets())
    result.api_calls = client.calls
    result.fit.seconds = time.perf_counter() - t0
    gl.finish_run(con, athlete_id, result.status, result.message)
    if result.fit.files_seen or result.fit.unreadable:
        _record_run(con, uuid.uuid4().hex, athlete_id, "garmin_connect", started, result.fit)
    return result


def sync_paths(settings: Settings, athlete_id: str, *, log: Log = lambda s: None,
               lock_timeout_s: float = 600.0) -> GarminResult:
    """Open the warehouse under the write lock and sync one athlete from Garmin Connect."""
    with make_client(settings, athlete_id, warn=log) as client, \
            writer(settings.target, athlete_id, lock_timeout_s) as con:
        result = sync_athlete(con, client, settings, athlete_id, log=log)
        wdb.checkpoint(con)
        return result


def garmin_enabled(settings: Settings, athlete_id: str) -> bool:
    """An athlete has Garmin Connect when its token file exists (`runlift garmin auth` wrote it)."""
    return settings.garmin_token_file(athlete_id).exists()
