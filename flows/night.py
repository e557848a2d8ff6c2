"""The night's pipeline as plain functions: every athlete's Strava, Garmin Connect, FIT inbox and Hevy,
build, publish.

For every athlete: Strava sync, Garmin Connect sync (athletes signed in with `runlift garmin auth`),
FIT inbox import and Hevy sync (athletes with a Hevy API key; one source failing does not stop the
others) →
build the marts → publish for dashboards → a summary of the night. A webhook (setting
``notify.webhook_url``) hears about a failed night. Each step takes the settings file (``config``)
and the overrides the command line has (``db``, ``athlete``, ``units``); ``athlete`` limits the
night to that athlete. Every write to the warehouse happens under its lock file, so two nights
never overlap, whether started by cron, by `runlift sync` or by Prefect.

This module imports no Prefect: `runlift sync` without a Prefect server runs it directly, at the
speed of the work. :mod:`runlift.flows.nightly` wraps the same steps in Prefect tasks and flows
for scheduled nights (prefect.yaml) and `runlift sync --prefect`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from runlift.connectors.redact import redact
from runlift.flows import units as fmt
from runlift.flows.build import build_warehouse, maintain_lake_of, publish_warehouse
from runlift.flows.fit_pipeline import ImportSummary, import_paths
from runlift.flows.garmin_sync import GarminResult, garmin_enabled
from runlift.flows.garmin_sync import sync_paths as garmin_sync_paths
from runlift.flows.hevy_sync import HevySyncResult, hevy_enabled
from runlift.flows.hevy_sync import sync_paths as hevy_sync_paths
from runlift.flows.settings import Settings, known_secrets, load_settings
from runlift.flows.strava_sync import SyncResult, sync_paths
from runlift.warehouse import db as wdb
from runlift.warehouse import queries
from runlift.warehouse.build import BuildResult
from runlift.warehouse.lake import MaintainResult
from runlift.warehouse.publish import PublishResult


def _log() -> Any:
    """The Prefect run's logger inside a flow or task run, else the "runlift" logger."""
    if "prefect" in sys.modules:  # never import Prefect for a plain run
        from prefect.context import FlowRunContext, TaskRunContext

        if FlowRunContext.get() is not None or TaskRunContext.get() is not None:
            from prefect import get_run_logger

            return get_run_logger()
    return logging.getLogger("runlift")


@dataclass
class NightReport:
    started_at: dt.datetime
    as_of: dt.date | None = None
    strava: dict[str, SyncResult] = field(default_factory=dict)
    fit: dict[str, ImportSummary] = field(default_factory=dict)
    hevy: dict[str, HevySyncResult] = field(default_factory=dict)
    garmin: dict[str, GarminResult] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    athletes: list[str] = field(default_factory=list)  # the night's athletes (all configured, or --athlete)
    warehouse: Path | None = None  # the warehouse the night wrote
    skipped: list[str] = field(default_factory=list)
    build: BuildResult | None = None
    published: Path | None = None
    dashboard: Path | None = None
    markdown: str = ""

    @property
    def ok(self) -> bool:
        return not self.failures


def strava_enabled(settings: Settings, athlete_id: str) -> bool:
    cfg = settings.strava
    return bool(cfg.client_id and cfg.client_secret
                and (settings.token_file(athlete_id).exists() or os.environ.get("STRAVA_REFRESH_TOKEN")))


def night_settings(config: str | None, db: str | None = None, athlete: str | None = None,
                   units: str | None = None) -> Settings:
    """The settings file (``config``) with the overrides: option > environment > file > default."""
    return load_settings(config, db=db, athlete=athlete, units=units, require_athlete=False)


def sync_strava(config: str | None, athlete_id: str, full: bool = False, wait: bool = False,
                db: str | None = None, units: str | None = None) -> SyncResult:
    """One athlete's Strava sync (the client retries network errors itself; no task retries on top)."""
    settings = load_settings(config, db=db, athlete=athlete_id, units=units)
    return sync_paths(settings, athlete_id, full=full, wait=wait, log=_log().info)


def sync_hevy(config: str | None, athlete_id: str, full: bool = False, db: str | None = None) -> HevySyncResult:
    """One athlete's Hevy sync (the client retries network errors itself; no task retries on top)."""
    settings = load_settings(config, db=db, athlete=athlete_id)
    return hevy_sync_paths(settings, athlete_id, full=full, log=_log().info)


def sync_garmin(config: str | None, athlete_id: str, db: str | None = None) -> GarminResult:
    """One athlete's Garmin Connect sync (its original FIT files and weigh-ins)."""
    settings = load_settings(config, db=db, athlete=athlete_id)
    return garmin_sync_paths(settings, athlete_id, log=_log().info)


def import_fit_inbox(config: str | None, athlete_id: str, db: str | None = None) -> ImportSummary:
    settings = load_settings(config, db=db, athlete=athlete_id)
    folders = [str(p) for p in settings.athletes[athlete_id].fit_inbox]
    return import_paths(settings.target, athlete_id, folders)


def build_marts(config: str | None, as_of: dt.date | None, db: str | None = None, athlete: str | None = None,
                units: str | None = None, if_changed: bool = True) -> BuildResult:
    """Every configured athlete's marts (as_of default: today in the night's athlete's time zone).

    ``if_changed``: not rebuilt when nothing they are built from changed since the last build (the
    raw data, the athletes' settings, units, the as-of date, the models' code)."""
    return build_warehouse(night_settings(config, db, athlete, units), as_of, if_changed=if_changed)


def publish_for_dashboards(config: str | None, db: str | None = None, refresh_if_unchanged: bool = True,
                           ) -> PublishResult:
    """Publish the marts (``refresh_if_unchanged``: when the published file holds the last build's
    marts already, only its pipeline state is written anew)."""
    return publish_warehouse(night_settings(config, db), refresh_if_unchanged=refresh_if_unchanged)


def maintain_lake(config: str | None, db: str | None = None) -> MaintainResult:
    """The lake's maintenance (a night with warehouse.lake set, after publishing)."""
    return maintain_lake_of(night_settings(config, db))


def write_dashboard(config: str | None, db: str | None = None, athlete: str | None = None,
                    units: str | None = None) -> Path:
    from runlift.flows.dashboard import write_dashboard_file

    return write_dashboard_file(night_settings(config, db, athlete, units))


def unchanged_line(build: BuildResult) -> str:
    """What a night that did not rebuild says about the marts."""
    return (f"nothing new since the build of {build.unchanged_since:%Y-%m-%d %H:%M} UTC; marts unchanged "
            f"(as of {build.as_of}), not rebuilt")


def _summary_markdown(settings: Settings, report: NightReport) -> str:
    lines = [f"# runlift night of {report.started_at:%Y-%m-%d %H:%M} UTC", ""]
    lines.append("**Status: " + ("ok" if report.ok else "FAILED") + "**")
    if report.warehouse:
        lines.append(f"Warehouse: `{report.warehouse}`")
    if report.build is not None and report.build.unchanged_since is not None:
        lines.append(f"Marts: {unchanged_line(report.build)}")
    for failure in report.failures:
        lines.append(f"- failed: {redact(failure, known_secrets(settings), limit=2000)}")
    for skip in report.skipped:
        lines.append(f"- skipped: {skip}")
    for athlete_id, h in report.hevy.items():
        lines.append(f"- Hevy {athlete_id}: {h.new} new / {h.updated} updated / {h.deleted} deleted workouts "
                     f"({h.status})")
    lines += ["", "## New data", "", "| athlete | Strava new / updated / deleted | Garmin Connect FIT files new / "
              "weigh-ins | FIT files new | sessions | sets |", "|---|---|---|---|---|---|"]
    shown = report.athletes or list(settings.athletes)
    for athlete_id in shown:
        s, f = report.strava.get(athlete_id), report.fit.get(athlete_id)
        strava = f"{s.new} / {s.updated} / {s.deleted} ({s.status})" if s else "-"
        fit = (f.files_new, f.sessions, f.sets) if f else ("-", "-", "-")
        g = report.garmin.get(athlete_id)
        garmin = f"{g.fit.files_new} / {g.weigh_ins} ({g.status})" if g else "-"
        lines.append(f"| {athlete_id} | {strava} | {garmin} | {fit[0]} | {fit[1]} | {fit[2]} |")
    if report.published and report.published.exists():
        import duckdb

        con = duckdb.connect(str(report.published), read_only=True)
        try:
            week = queries.latest_weeks(con, shown)
            # no as-of date (the build did not run): no flags listed
            flags = (queries.training_flags(con, athlete_ids=shown, after=report.as_of - dt.timedelta(days=7), limit=20)
                     if report.as_of else [])
            # a published file from before these marts (tonight's build failed): that part is left out
            present = queries.tables_present(con)
            worn = (queries.shoes(con, shown, past_range_only=True) if "marts.gear_mileage" in present else None)
            blocks = queries.block_comparisons(con, shown) if "marts.block_summary" in present else []
        finally:
            con.close()
        lines += ["", "## This week", "",
                  "| athlete | week of | running | runs | gym sessions | volume | strength share of load | impact "
                  "| flags |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for w in week:
            share = w.strength_share_of_session_load
            share_txt = f"{share * 100:.0f} %" if share is not None else "-"
            lines.append(f"| {w.athlete_id} | {w.week_start} | {fmt.distance(w.run_distance_m, settings.units)} | "
                         f"{w.run_count} | {w.strength_sessions} | "
                         f"{fmt.mass(w.strength_volume_load_kg, settings.units)} | "
                         f"{share_txt} | {w.impact_load_kbw:.1f} kBW | {w.flags_count} |")
        lines += ["", "## Flags of the last 7 days", ""]
        lines += [f"- {f.date} **{f.athlete_id}** {f.severity}: {f.explanation}" for f in flags] or ["- none"]
        lines += ["", "## Shoes past their range", ""]
        lines += [f"- **{s.athlete_id}** {s.shoe_name}: {fmt.distance(s.distance_m, settings.units)} over {s.runs} "
                  f"runs, past {fmt.distance(s.replacement_high_m, settings.units)} since {s.past_range_date} "
                  f"(last run {s.last_used_date})" for s in worn or []] or [
                      "- none" if worn is not None else "- not in the published file yet (the next build adds them)"]
        lines += _blocks_markdown(blocks, settings.units)
        lines += ["", f"Published for dashboards: `{report.published}`"]
    if report.dashboard:
        lines.append(f"Dashboard: [{report.dashboard.name}]({report.dashboard.as_uri()})")
    return "\n".join(lines) + "\n"


def _block_rows(b: queries.BlockFigures | None, units: str) -> list[str]:
    """One block's cells, in the order of the rows of _blocks_markdown."""
    if b is None:
        return ["-"] * (7 + len(fmt.MUSCLE_LABELS))
    share = b.strength_share_of_session_load
    return [f"{b.start_date} to {b.end_date} ({b.days} days{'' if b.is_complete else ' so far'})",
            fmt.distance(b.weekly_run_distance_m, units),
            f"{fmt.distance(b.run_distance_m, units)}, {b.runs} runs, {b.long_runs} long",
            f"{b.strength_sessions}",
            *(f"{b.hard_sets_per_week.get(g, 0.0):.1f}" for g in fmt.MUSCLE_LABELS),
            f"{b.run_impact_kbw_per_week:.0f} kBW",
            f"{b.strength_knee_load_kbw_per_week:.2f} kBW",
            f"{share * 100:.0f} %" if share is not None else "-"]


def _blocks_markdown(blocks: list[queries.BlockComparison], units: str) -> list[str]:
    """This block against the previous one (marts.block_summary), per athlete, and the muscle group
    furthest below its usual weekly hard sets."""
    lines = ["", "## This block against the previous one", ""]
    if not blocks:
        return lines + ["- no training block yet"]
    labels = ["block", "running per week", "running", "strength sessions",
              *(f"hard sets per week: {label}" for label in fmt.MUSCLE_LABELS.values()),
              "running impact per week", "strength knee load per week", "strength share of load"]
    for c in blocks:
        prev = c.previous.block_name if c.previous else "(no previous block)"
        names = [n.replace("|", "\\|") for n in (prev, c.current.block_name)]  # block names are the user's
        lines += [f"**{c.athlete_id}**", "", f"| | {names[0]} | {names[1]} |", "|---|---|---|"]
        for label, before, now in zip(labels, _block_rows(c.previous, units), _block_rows(c.current, units),
                                      strict=True):
            lines.append(f"| {label} | {before} | {now} |")
        b = c.current
        if b.weakest_muscle_group is None:
            lines += ["", "Weakest muscle group: no strength session in this block."]
        else:
            lines += ["", f"Weakest muscle group: {fmt.muscle(b.weakest_muscle_group)}, "
                          f"{b.weakest_hard_sets_per_week or 0:.1f} hard sets a week against a usual "
                          f"{b.weakest_usual_low}-{b.weakest_usual_high} (docs/metrics.md)."]
        lines.append("")
    return lines


def notify(url: str | None, report: NightReport, settings: Settings | None = None) -> None:
    """POST a short JSON message about a failed night; a notification failure is logged, not raised.

    Every failure text goes through redact() (it may quote what a server said)."""
    if not url or report.ok:
        return
    failures = [redact(f, known_secrets(settings), limit=2000) for f in report.failures]
    body = {"text": redact("runlift: the night failed: " + "; ".join(failures), limit=2000), "failures": failures,
            "started_at": report.started_at.isoformat() + "Z"}
    try:
        httpx.post(url, json=body, timeout=10.0)
    except httpx.HTTPError as exc:
        _log().warning("could not notify %s: %s", url.split("?")[0], type(exc).__name__)


@dataclass
class Steps:
    """What a night calls for each step: these plain functions when run directly (`runlift sync`
    without a Prefect server), their Prefect tasks inside the nightly_sync / backfill flows."""

    sync_strava: Callable[..., SyncResult] = sync_strava
    sync_garmin: Callable[..., GarminResult] = sync_garmin
    import_fit_inbox: Callable[..., ImportSummary] = import_fit_inbox
    sync_hevy: Callable[..., HevySyncResult] = sync_hevy
    build_marts: Callable[..., BuildResult] = build_marts
    publish: Callable[..., PublishResult] = publish_for_dashboards
    write_dashboard: Callable[..., Path] = write_dashboard
    maintain_lake: Callable[..., MaintainResult] = maintain_lake
    logger: Any = None  # a logging.Logger-like object; None: the "runlift" logger
    artifact: Callable[[str], None] | None = None  # publishes the summary (a Prefect artifact)


def sync_sources(config: str | None, athlete_id: str, settings: Settings, steps: Steps, report: NightReport,
                 fail: Callable[[str], None], logger: Any, *, full: bool, wait: bool, db: str | None,
                 units: str | None) -> None:
    """One athlete's sources (Strava, Garmin Connect, FIT inbox, Hevy) into ``report``: what is not
    configured is noted as skipped; one source failing (``fail`` records it) does not stop the others.
    The night (:func:`run_night`) and a squad's athlete run (:mod:`runlift.flows.squad`) call it."""
    if strava_enabled(settings, athlete_id):
        try:
            result = steps.sync_strava(config, athlete_id, full=full, wait=wait, db=db, units=units)
            report.strava[athlete_id] = result
            if not result.ok:
                fail(f"Strava for {athlete_id}: {result.message}")
        except Exception as exc:  # one source failing must not stop the other
            fail(f"Strava for {athlete_id}: {exc}")
    else:
        report.skipped.append(f"Strava for {athlete_id} (not configured: no client id/secret or no token)")
    if garmin_enabled(settings, athlete_id):
        try:
            garmin = steps.sync_garmin(config, athlete_id, db=db)
            report.garmin[athlete_id] = garmin
            for line in garmin.fit.problem_lines():
                logger.warning("%s", line)
            if not garmin.ok:  # a 429 (paused) is no failure: the next night resumes
                fail(f"Garmin Connect for {athlete_id}: {garmin.message}")
        except Exception as exc:
            fail(f"Garmin Connect for {athlete_id}: {exc}")
    else:
        report.skipped.append(f"Garmin Connect for {athlete_id} (not signed in: `runlift garmin auth`)")
    if settings.athletes[athlete_id].fit_inbox:
        try:
            summary = steps.import_fit_inbox(config, athlete_id, db=db)
            report.fit[athlete_id] = summary
            for line in summary.problem_lines():  # escaped, shortened, summarised past 20 files
                logger.warning("%s", line)
            missing = [p for p, why in summary.unreadable if why == "no such file or folder"]
            if missing:
                fail(f"FIT inbox for {athlete_id}: missing {', '.join(missing)}")
        except Exception as exc:
            fail(f"FIT import for {athlete_id}: {exc}")
    else:
        report.skipped.append(f"FIT inbox for {athlete_id} (no fit_inbox folders)")
    if hevy_enabled(settings, athlete_id):  # only athletes with a Hevy API key
        try:
            hevy = steps.sync_hevy(config, athlete_id, full=full, db=db)
            report.hevy[athlete_id] = hevy
            for line in hevy.problems[:20]:
                logger.warning("hevy %s: %s", athlete_id, line)
            if not hevy.ok:
                fail(f"Hevy for {athlete_id}: {hevy.message}")
        except Exception as exc:
            fail(f"Hevy for {athlete_id}: {exc}")


def run_night(config: str | None, *, full: bool, wait: bool, as_of: dt.date | None, db: str | None = None,
              athlete: str | None = None, units: str | None = None, steps: Steps | None = None) -> NightReport:
    """The whole night; ``steps`` says how each step runs (plain functions by default)."""
    steps = steps or Steps()
    logger = steps.logger or _log()
    settings = night_settings(config, db, athlete, units)
    # --athlete (or RUNLIFT_ATHLETE) limits the night to that athlete; else every configured one
    only = settings.athlete_id if settings.sources.get("athlete", "default") != "default" else None
    db, units = str(settings.db_path), settings.units  # every task writes the warehouse resolved here
    report = NightReport(started_at=wdb.utcnow(), as_of=as_of, athletes=[only] if only else list(settings.athletes),
                         warehouse=settings.db_path)
    logger.info("night for %s into %s", ", ".join(report.athletes), settings.db_path)

    def fail(text: str) -> None:  # every failure is redacted on its way in (exception texts may quote servers)
        report.failures.append(redact(text, known_secrets(settings), limit=2000))

    for athlete_id in report.athletes:
        sync_sources(config, athlete_id, settings, steps, report, fail, logger, full=full, wait=wait,
                     db=db, units=units)
    try:
        report.build = steps.build_marts(config, as_of, db=db, athlete=only, units=units)
        report.as_of = report.build.as_of
        if report.build.unchanged_since is not None:
            logger.info("%s", unchanged_line(report.build))
        if report.build.failures:
            fail("model tests: " + "; ".join(report.build.failures))
        report.published = steps.publish(config, db=db).path
        report.dashboard = steps.write_dashboard(config, db=db, athlete=only, units=units)
    except Exception as exc:
        fail(f"build/publish: {exc}")
    if settings.lake is not None:
        try:  # a lake's small files merged and old snapshots expired, once a night (docs/lake.md)
            done = steps.maintain_lake(config, db=db)
            logger.info("lake maintained in %.1f s: snapshots %d -> %d", done.seconds, done.snapshots_before,
                        done.snapshots_after)
        except Exception as exc:
            fail(f"lake maintenance: {exc}")
    report.markdown = _summary_markdown(settings, report)
    if steps.artifact is not None:
        try:
            steps.artifact(report.markdown)
        except Exception as exc:  # an artifact is a nicety; never fail the night for it
            logger.warning("could not write the Prefect artifact: %s", exc)
    logger.info("summary of the night:\n%s", report.markdown)
    for failure in report.failures:
        logger.error("failed: %s", failure)
    notify(settings.webhook_url, report, settings)
    return report
