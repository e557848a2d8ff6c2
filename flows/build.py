"""`runlift build`: rebuild the staging, intermediate and mart models for every athlete."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from runlift.flows.settings import Settings, load_exercise_map
from runlift.warehouse import db as wdb
from runlift.warehouse.build import AthleteParams, BuildResult, build, build_if_changed
from runlift.warehouse.lake import MaintainResult, maintain
from runlift.warehouse.lock import writer
from runlift.warehouse.publish import PublishResult, publish, refresh


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


def build_warehouse(settings: Settings, as_of: dt.date | None = None, *, lock_timeout_s: float = 600.0,
                    if_changed: bool = False) -> BuildResult:
    """Rebuild the marts (``if_changed``: only when something they are built from changed since the
    last build, see warehouse.build.build_if_changed; `runlift build` always rebuilds)."""
    as_of = as_of or default_as_of(settings)
    exercise_map = load_exercise_map(settings)  # a bad file: SettingsError before the lock
    with writer(settings.target, None, lock_timeout_s) as con:
        how = build_if_changed if if_changed else build
        result = how(con, as_of=as_of, athletes=athlete_params(settings), units=settings.units,
                     shoe_range_km=settings.gear.shoe_replacement_km, exercise_map=exercise_map)
        if result.unchanged_since is None:
            wdb.checkpoint(con)
        return result


def maintain_lake_of(settings: Settings, *, lock_timeout_s: float = 600.0) -> MaintainResult:
    """The lake's maintenance (warehouse.lake.maintain) under its all-athletes lock."""
    if settings.lake is None:
        raise ValueError("the warehouse is a DuckDB file, not a lake")
    with writer(settings.lake, None, lock_timeout_s) as con:
        return maintain(con, settings.lake)


def publish_warehouse(settings: Settings, *, lock_timeout_s: float = 600.0, refresh_if_unchanged: bool = False,
                      ) -> PublishResult:
    """Write the read-only copy for dashboards (under the write lock).

    ``refresh_if_unchanged``: when the published file holds the marts of the last build already
    (a night that did not rebuild), write only its pipeline state anew (warehouse.publish.refresh)."""
    with writer(settings.target, None, lock_timeout_s) as con:
        include_location = settings.publish.include_location
        if refresh_if_unchanged:
            refreshed = refresh(con, settings.published_path, include_location=include_location)
            if refreshed is not None:
                return refreshed
        return publish(con, settings.published_path, include_location=include_location)
