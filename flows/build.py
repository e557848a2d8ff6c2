"""`runlift build`: rebuild the staging, intermediate and mart models for every athlete."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from runlift.flows.settings import Settings
from runlift.warehouse import db as wdb
from runlift.warehouse.build import AthleteParams, BuildResult, build
from runlift.warehouse.lock import write_lock
from runlift.warehouse.publish import PublishResult, publish


def athlete_params(settings: Settings) -> list[AthleteParams]:
    return [AthleteParams(a.id, a.timezone, a.sex, a.max_hr_bpm, a.resting_hr_bpm,
                          tuple((bm.since, bm.kg) for bm in a.body_mass),
                          acwr_flags=settings.acwr_flags(a.id),
                          races=tuple((r.date, r.name, None if r.distance_km is None else r.distance_km * 1000.0,
                                       r.taper_days) for r in a.races),
                          blocks=tuple((b.name, b.start, b.end, b.race) for b in a.blocks))
            for a in settings.athletes.values()]


def default_as_of(settings: Settings) -> dt.date:
    """Today in the (selected) athlete's time zone."""
    return dt.datetime.now(ZoneInfo(settings.athlete.timezone)).date()


def build_warehouse(settings: Settings, as_of: dt.date | None = None, *, lock_timeout_s: float = 600.0) -> BuildResult:
    as_of = as_of or default_as_of(settings)
    with write_lock(settings.db_path, lock_timeout_s):
        con = wdb.connect(settings.db_path)
        try:
            result = build(con, as_of=as_of, athletes=athlete_params(settings), units=settings.units)
            con.execute("CHECKPOINT")
            return result
        finally:
            con.close()


def publish_warehouse(settings: Settings, *, lock_timeout_s: float = 600.0) -> PublishResult:
    """Write the read-only copy for dashboards (under the write lock)."""
    with write_lock(settings.db_path, lock_timeout_s):
        con = wdb.connect(settings.db_path)
        try:
            return publish(con, settings.published_path, include_location=settings.publish.include_location)
        finally:
            con.close()
