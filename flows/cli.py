"""The ``runlift`` command line."""

from __future__ import annotations

import functools
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from runlift.flows import units as fmt
from runlift.flows.settings import EXAMPLE_TOML, Settings, SettingsError, known_secrets, load_settings

EXIT_ERROR = 2


class Failure(click.ClickException):
    """One clear line for the person: what went wrong, why, what to do."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"runlift: error: {self.message}", err=True)


ATHLETE_HELP = "Athlete id (env RUNLIFT_ATHLETE; default: the only one configured, else 'me')."
EVERY_ATHLETE_HELP = ("Only this athlete's Strava, Garmin Connect and FIT inbox (env RUNLIFT_ATHLETE; default: every "
                      "configured athlete).")


def common_options(func: Callable[..., Any] | None = None, *, athlete_help: str = ATHLETE_HELP,
                   every_athlete: bool = False, athlete: bool = True, units: bool = True) -> Any:
    """--config, --db, --athlete, --units and --verbose on every command.

    ``every_athlete``: a job over every configured athlete, which --athlete limits to one.
    ``athlete=False`` / ``units=False``: the command has no use for that option, so it does not offer
    it (an option in --help takes effect: tests/test_options.py).
    """
    if func is None:
        return functools.partial(common_options, athlete_help=athlete_help, every_athlete=every_athlete,
                                 athlete=athlete, units=units)

    @functools.wraps(func)
    def wrapper(*args: Any, config: str | None, db: str | None, verbose: bool, athlete: str | None = None,
                units: str | None = None, **kwargs: Any) -> Any:
        try:
            settings = load_settings(config, db=db, athlete=athlete, units=units, require_athlete=not every_athlete)
            return func(settings, *args, **kwargs)
        except (click.ClickException, BrokenPipeError):  # a closed stdout: click exits quietly (main)
            raise
        except Exception as exc:
            if verbose:
                traceback.print_exc()
            raise Failure(_explain(exc)) from None

    options = [
        click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
                     help="Settings file (env RUNLIFT_CONFIG; default ./runlift.toml when present)."),
        click.option("--db", "db", type=click.Path(dir_okay=False), default=None,
                     help="Warehouse file (env RUNLIFT_DB; setting warehouse.path)."),
    ]
    if athlete:
        options.append(click.option("--athlete", default=None, help=athlete_help))
    if units:
        options.append(click.option("--units", type=click.Choice(["metric", "imperial"]), default=None,
                                    help="Display units (env RUNLIFT_UNITS; setting units)."))
    options.append(click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and debug detail on errors."))
    for option in reversed(options):  # listed in --help in this order
        wrapper = option(wrapper)
    return wrapper


def _explain(exc: Exception) -> str:
    from runlift.connectors.garmin.client import GarminError
    from runlift.connectors.garmin.tokens import GarminTokenError
    from runlift.connectors.hevy.client import HevyError
    from runlift.connectors.lift_csv import LiftCsvError
    from runlift.connectors.redact import redact
    from runlift.connectors.strava.client import StravaError
    from runlift.connectors.strava.tokens import TokenError
    from runlift.warehouse.db import WarehouseError
    from runlift.warehouse.lock import LockTimeout

    if isinstance(exc, (SettingsError, WarehouseError, LockTimeout, StravaError, TokenError, HevyError,
                        LiftCsvError, GarminError, GarminTokenError)):
        return redact(exc, limit=1000)
    text = " ".join(str(exc).split())
    if "No space left on device" in text or getattr(exc, "errno", None) == 28:
        return redact(f"disk full: {type(exc).__name__}: {text}; free some space and run it again (what "
                      "was committed before is kept, the rest was rolled back)", limit=1000)
    return redact(f"{type(exc).__name__}: {exc}", limit=1000) + " (run again with --verbose for the traceback)"



@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="runlift")
def main() -> None:
    """runlift: runs and gym sessions into DuckDB, for runners who lift.

    Settings come from runlift.toml (see `runlift init`); every option also has an environment
    variable. Storage is SI; display units are a setting.
    """
    os.umask(os.umask(0o077) | 0o077)  # every file runlift writes is owner-only (docs/security.md)
    # a Prefect server this process starts (the temporary one of --prefect without a configured
    # server, the demo's) sends no analytics: a personal-health tool phones nobody
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"


@main.command()
@click.option("--config", "config", type=click.Path(dir_okay=False), default="runlift.toml", show_default=True,
              help="Where to write the example settings file.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(config: str, force: bool) -> None:
    """Write a commented example settings file."""
    path = Path(config).expanduser()
    if path.exists() and not force:
        raise Failure(f"{path} already exists; edit it, or pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(EXAMPLE_TOML, encoding="utf-8")
    click.echo(f"wrote {path}; edit the [athletes.me] table, then run `runlift import-fit PATH`")


class _Bar:
    """A progress line for long imports: files done, MB, MB/s, the current file."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.files = 0
        self.bytes = 0
        self.t0 = time.perf_counter()
        self.last = 0.0

    def __call__(self, path: str, size: int) -> None:
        self.files += 1
        self.bytes += size
        now = time.perf_counter()
        if self.enabled and now - self.last > 0.2:
            self.last = now
            rate = self.bytes / 1e6 / max(now - self.t0, 1e-9)
            from runlift.flows.fit_pipeline import shown  # (loaded already: the import is running)

            name = shown(path.rsplit("/", 1)[-1])[-40:]
            click.echo(f"\r  {self.files} files, {self.bytes / 1e6:.1f} MB, {rate:.2f} MB/s  {name:<40}",
                       nl=False, err=True)

    def close(self) -> None:
        if self.enabled and self.files:
            click.echo("\r" + " " * 100 + "\r", nl=False, err=True)


PREFECT_OPTION = click.option(
    "--prefect/--no-prefect", "use_prefect", default=None,
    help="Run as a Prefect flow run (shows in the server's UI). Default: only when a Prefect server is "
         "configured (PREFECT_API_URL, or the active Prefect profile); else the same steps run directly.")


def prefect_configured(env: Any = None) -> bool:
    """A Prefect server to report to: PREFECT_API_URL in the environment or in the active profile
    ($PREFECT_HOME/profiles.toml). Read without importing Prefect (which costs a second or more)."""
    import tomllib

    env = os.environ if env is None else env
    if env.get("PREFECT_API_URL"):
        return True
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    try:
        with open(home / "profiles.toml", "rb") as fh:
            profiles = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return False
    active = env.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    return bool(profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL"))


def _direct_logging() -> None:
    """Without Prefect, the steps' warnings go to stderr as one line each (no Prefect log lines)."""
    import logging

    logger = logging.getLogger("runlift")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("runlift: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False


def _run_import(settings: Settings, paths: list[str], reprocess_kept: bool, use_prefect: bool,
                reread: bool = False) -> Any:
    from runlift.flows import fit_pipeline

    bar = _Bar(enabled=sys.stderr.isatty() or bool(os.environ.get("RUNLIFT_PROGRESS")))
    try:
        if use_prefect:
            from runlift.flows.import_fit import import_fit, set_progress

            set_progress(bar)
            lake = settings.lake
            return import_fit(str(settings.db_path), settings.athlete_id, paths, reprocess_kept=reprocess_kept,
                              reread=reread, lake=lake.attach if lake else None,
                              data_path=lake.data_path if lake else None)
        total = fit_pipeline.ImportSummary()
        if reprocess_kept:
            total.add(fit_pipeline.reprocess(settings.target, settings.athlete_id, progress=bar))
        if paths:
            total.add(fit_pipeline.import_paths(settings.target, settings.athlete_id, paths, progress=bar,
                                                reread=reread))
        return total
    finally:
        bar.close()


BUILD_OPTION = click.option(
    "--build/--no-build", "rebuild", default=True, show_default=True,
    help="After a change to the raw data, rebuild the marts and publish them for dashboards and `runlift sql`.")


@main.command("import-fit")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--reprocess", is_flag=True,
              help="Decode every kept FIT file again from the warehouse's own copy and replace its rows.")
@click.option("--reread", is_flag=True,
              help="Read every file again, even one unchanged (size, times, inode) since an import read it whole.")
@BUILD_OPTION
@PREFECT_OPTION
@common_options(units=False)
def import_fit_cmd(settings: Settings, paths: tuple[str, ...], reprocess: bool, reread: bool, rebuild: bool,
                   use_prefect: bool | None) -> None:
    """Import Garmin FIT files: .fit, .fit.gz, folders and .zip exports (zips in zips too).

    With no PATH, imports the athlete's fit_inbox folders from the settings. Importing the same
    files again adds nothing; a file an import read whole and unchanged since (same size,
    modification and change times, inode) is not even read again (--reread reads it). Then, when
    anything changed, the marts are rebuilt and published (--no-build skips it) and the summary
    says what to look at next.
    """
    targets = list(paths) or [str(p) for p in settings.athlete.fit_inbox]
    if not targets and not reprocess:
        raise Failure(f"no PATH given and athletes.{settings.athlete_id}.fit_inbox is not set; "
                      "name files or folders to import, or set fit_inbox in the settings file")
    click.echo(f"importing for athlete {settings.athlete_id} into {settings.db_path}", err=True)
    summary = _run_import(settings, targets, reprocess, prefect_configured() if use_prefect is None else use_prefect,
                          reread=reread)
    for line in summary.lines():
        click.echo(line)
    missing = [p for p, reason in summary.unreadable if reason == "no such file or folder"]
    if rebuild and (summary.files_new or reprocess):
        _build_and_point(settings)
    elif rebuild:
        click.echo("nothing new: the marts are as they were")
    if missing:
        raise Failure(f"{len(missing)} path(s) do not exist: {', '.join(missing)}")


def _build_and_point(settings: Settings) -> None:
    """Rebuild and publish after a change to raw data, then say where to look."""
    from runlift.flows.build import build_warehouse, publish_warehouse

    click.echo("building the marts...", err=True)
    result = build_warehouse(settings)
    published = publish_warehouse(settings)
    rows = result.rows.get("fct_activities", 0)
    click.echo(f"built the marts as of {result.as_of} ({rows} workouts) and published {published.path}")
    if result.failures:
        click.echo("model tests failed: " + "; ".join(result.failures))
    else:
        from runlift.flows.dashboard import write_dashboard_file

        click.echo(f"dashboard: {write_dashboard_file(settings)}")  # as `runlift build` does: never left stale
    click.echo("next: `runlift dashboard` (charts), `runlift status`, or "
               "`runlift sql \"SELECT * FROM marts.weekly_training_balance ORDER BY week_start DESC LIMIT 4\"`")


@main.command("remove-fit")
@click.argument("files", nargs=-1, required=True)
@click.option("--readmit", is_flag=True,
              help="Do not remove: let files removed earlier be imported again by the next import.")
@BUILD_OPTION
@common_options(units=False)
def remove_fit_cmd(settings: Settings, files: tuple[str, ...], readmit: bool, rebuild: bool) -> None:
    """Remove imported FIT files: their rows in raw.fit_* and their kept bytes, in one transaction.

    FILES: each a SHA-256 (or a prefix of at least 8 hex digits), a path as imported or a file
    name. A name that matches several files removes nothing (give the SHA-256). Later imports skip
    the removed content (until --readmit). Then the marts are rebuilt and published (--no-build:
    at the next `runlift build` or night).
    """
    from runlift.flows.fit_pipeline import shown
    from runlift.flows.fit_remove import readmit_fit, remove_fit
    from runlift.warehouse.fit_loader import NoSuchFile

    if settings.lake is None and not settings.db_path.exists():
        raise Failure(f"no warehouse at {settings.db_path}; nothing to remove")
    try:
        if readmit:
            for sha, path in readmit_fit(settings.target, settings.athlete_id, list(files)):
                click.echo(f"readmitted {shown(path)} (sha256 {sha}): the next import of it imports it again")
            return
        removed = remove_fit(settings.target, settings.athlete_id, list(files))
    except NoSuchFile as exc:
        raise Failure(str(exc)) from None
    for item in removed:
        rows = ", ".join(f"{item.rows[f'fit_{t}s']} {t}{'' if item.rows[f'fit_{t}s'] == 1 else 's'}"
                         for t in ("session", "lap", "set", "record"))
        blob = ("deleted" if item.blob_deleted
                else "not deleted (another athlete has the same file)" if item.blob_shared
                else "were not there")
        click.echo(f"removed {shown(item.path)} (sha256 {item.sha}, status {item.status}): {rows}; kept bytes {blob}")
    click.echo("later imports skip this content (`runlift remove-fit --readmit` undoes that)")
    if rebuild and removed:
        _build_and_point(settings)
    elif removed:
        click.echo("the marts change at the next `runlift build` (the nightly sync runs it)")


def _open_for_reading(settings: Settings, working: bool) -> tuple[Any, str]:
    """The published file by default; --working: the working warehouse, after waiting for its lock."""
    from runlift.warehouse import db as wdb
    from runlift.warehouse.lock import write_lock

    published = settings.published_path
    if not working and published.exists():
        return wdb.connect_query_only(published), "published"
    if settings.lake is not None:
        raise Failure(f"the working warehouse is a lake ({settings.lake.attach}): read the published file (`runlift "
                      "build` writes it), or query the lake with DuckLake (docs/lake.md)")
    if not settings.db_path.exists():
        raise Failure(f"no warehouse at {settings.db_path}; import something first (`runlift import-fit PATH` or "
                      "`runlift strava sync`) or point --db / RUNLIFT_DB at it")
    if not working:
        click.echo(f"note: no published file yet at {published}; reading the working warehouse "
                   "(run `runlift build` to publish)", err=True)
    with write_lock(settings.db_path):  # wait for a running writer to finish
        return wdb.connect_query_only(settings.db_path), "working"


WORKING_OPTION = click.option("--working", is_flag=True,
                              help="Read the working warehouse (waits for a running writer) instead of the "
                                   "published file.")


@main.command()
@WORKING_OPTION
@click.option("--unmapped", is_flag=True,
              help="List the lifting apps' exercise names no mapping places, with their sets, and where to map "
                   "them (exercise_map.csv in the settings folder; docs/sources.md).")
@common_options(athlete_help="Only this athlete (env RUNLIFT_ATHLETE; default: every athlete in the warehouse).",
                every_athlete=True)
def status(settings: Settings, working: bool, unmapped: bool) -> None:
    """What is in the warehouse: files by status, Strava and Garmin Connect syncs, last imports, problems.

    Every athlete in the warehouse, or the one --athlete names. As of the last build for what the
    build computes (unmapped sport types, unmapped exercise names).
    """
    from runlift.connectors.redact import redact
    from runlift.warehouse import queries as q
    from runlift.warehouse.sport_types import unmapped_sport_types

    only = settings.athlete_id if settings.sources.get("athlete", "default") != "default" else None

    def chosen(rows: Any) -> list[Any]:
        return [r for r in rows if only is None or r.athlete_id == only]

    con, which = _open_for_reading(settings, working)
    published = which == "published"
    try:
        if unmapped:
            _list_unmapped_exercises(settings, q.unmapped_app_exercises(con, only))
            return
        path = settings.published_path if published else settings.db_path
        click.echo(f"warehouse ({which}): {path}" + (f", athlete {only}" if only else ""))
        if published:
            stamp = q.published_stamp(con)
            if stamp:
                click.echo(f"published at {stamp.published_at:%Y-%m-%d %H:%M} UTC, marts as of {stamp.as_of_date}")
        counts = chosen(q.fit_file_counts(con, published=published))
        if not counts:
            click.echo("no FIT files imported yet")
        for c in counts:
            click.echo(f"  {c.athlete_id}: {c.files} {c.status} FIT files, {c.sessions} sessions, {c.records} records")
        for s in chosen(q.strava_activity_counts(con, published=published)):
            km = fmt.distance(s.run_distance_m, settings.units)
            click.echo(f"  {s.athlete_id}: {s.activities} Strava activities ({km} "
                       f"of running, {s.with_streams} with streams, {s.deleted} deleted at Strava)")
        for aid, source, sport, n in unmapped_sport_types(con):
            if only is not None and aid != only:
                continue
            click.echo(f"  {aid}: {n} {source} workouts of unmapped sport type {sport} (counted as other; "
                       "add it to warehouse/seeds/sport_types.csv)")
        names = q.unmapped_app_exercises(con, only)
        if names:
            n_sets = sum(u.sets for u in names)
            click.echo(f"Lift apps: {len(names)} exercise name{'s' if len(names) != 1 else ''} unmapped "
                       f"({n_sets} set{'s' if n_sets != 1 else ''}): run `runlift status --unmapped` "
                       "or see docs/sources.md")
        for run in chosen(q.last_strava_sync_runs(con)):
            # stored messages quote server text: redacted again in case an older runlift stored them raw
            click.echo(f"last Strava sync for {run.athlete_id}: {run.status} at {run.finished_at:%Y-%m-%d %H:%M} UTC "
                       f"({run.api_calls} calls)"
                       + (f": {redact(run.message, known_secrets(settings))}" if run.message else ""))
        for h in chosen(q.last_hevy_sync_runs(con)):
            click.echo(f"last Hevy sync for {h.athlete_id}: {h.status} at {h.finished_at:%Y-%m-%d %H:%M} UTC "
                       f"({h.api_calls} calls; {h.new} new, {h.updated} updated, {h.deleted} deleted workouts)"
                       + (f": {redact(h.message, known_secrets(settings))}" if h.message else ""))
        for g in chosen(q.garmin_sync_states(con, published=published)):
            click.echo(f"last Garmin Connect sync for {g.athlete_id}: {g.last_status or 'never finished'}"
                       + (f" at {g.last_run_at:%Y-%m-%d %H:%M} UTC" if g.last_run_at else "")
                       + f" ({g.activities} activities fetched, latest from "
                       + (f"{g.high_water_start_utc:%Y-%m-%d}" if g.high_water_start_utc else "-")
                       + f"; weigh-ins through {g.weigh_ins_through or '-'})"
                       + (f": {redact(g.last_message, known_secrets(settings))}" if g.last_message else ""))
        budget = q.strava_rate_budget(con)
        if budget:
            click.echo(f"Strava rate budget at {budget.observed_at:%H:%M} UTC: {budget.reads_left_15min} reads left "
                       f"in that 15-minute window, {budget.reads_left_day} that day")
        last = q.last_import_run(con, athlete_id=only)
        if last:
            click.echo(f"last FIT import: {last.source} for {last.athlete_id} at {last.finished_at:%Y-%m-%d %H:%M} UTC "
                       f"({last.files_new} new of {last.files_seen} files)")
        not_ok = q.fit_files_not_ok(con, published=published, athlete_id=only)
        if not_ok:
            from runlift.flows.fit_pipeline import REASON_MAX, reason_kind, shown

            # grouped by reason: a skipped file's reason names its file type, kept whole; a partial or
            # rejected file's reason is grouped by its kind (the details differ file by file)
            groups: dict[tuple[str, str], list[str]] = {}
            for f in not_ok:
                why = f.error or "no reason given"
                key = (f.status, why if f.status == "skipped" else reason_kind(why))
                groups.setdefault(key, []).append(f.first_path)
            click.echo("FIT files not imported whole, by reason:")
            for (st, why), paths in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
                more = f" (and {len(paths) - 1} more)" if len(paths) > 1 else ""
                click.echo(f"  {st}: {len(paths)} file{'s' if len(paths) > 1 else ''}: {shown(why, REASON_MAX)}: "
                           f"e.g. {shown(paths[0])}{more}")
    finally:
        con.close()


def _list_unmapped_exercises(settings: Settings, names: list[Any]) -> None:
    """`runlift status --unmapped`: each unmapped exercise name with its sets, and how to map it."""
    if not names:
        click.echo("Lift apps: every exercise name is mapped (as of the last build).")
        return
    click.echo(f"Lift apps: {len(names)} exercise names no mapping places (as of the last build), most sets first:")
    width = max(len(u.exercise_title) for u in names)
    for u in names:
        click.echo(f"  {u.athlete_id}  {u.source:<6}  {u.exercise_title:<{width}}  {u.sets} sets"
                   + (f", latest {u.last_date}" if u.last_date else ""))
    click.echo(f"Map them in {settings.exercise_map_path} (header "
               "source,app_exercise,exercise_category,exercise_name,primary_muscle,secondary_muscles,note), e.g.")
    click.echo(f"  {names[0].source},{_csv_field(names[0].exercise_title)},squat,,,,")
    click.echo("then `runlift build`; docs/sources.md (\"Exercise names\") says how.")


def _csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


SQL_FORMATS = ("table", "csv", "json", "markdown")


@main.command()
@click.argument("query", required=False)
@click.option("-f", "--file", "query_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read the query from this file ('-' for standard input) instead of QUERY.")
@click.option("--format", "out_format", type=click.Choice(SQL_FORMATS), default="table", show_default=True,
              help="table: for reading (floats rounded, --max-rows); csv, json, markdown: every row, values "
                   "as stored.")
@click.option("--max-rows", default=40, show_default=True, help="Rows to print in table format.")
@WORKING_OPTION
@common_options(athlete=False, units=False)
def sql(settings: Settings, query: str | None, query_file: Any, out_format: str, max_rows: int,
        working: bool) -> None:
    """Run a read-only SQL query (QUERY, '-' for standard input, or --file) and print its result.

    Reads the published file by default: the marts and the staging models; --working also reaches
    raw.* and ops.*. The query reads that one file only: it cannot change it, attach another
    database, read or write any other file (COPY, read_csv, ATTACH, EXPORT), load extensions or
    change settings. Values are as stored: SI units, the unit in the column name (distance_m,
    moving_time_s, weight_kg); the units setting does not apply here (docs/cli.md).
    """
    import duckdb

    from runlift.flows import sql_output

    if query_file is not None and query:
        raise click.UsageError("give the query as QUERY or with --file, not both")
    if query_file is not None:
        query = query_file.read()
    elif query == "-":
        query = sys.stdin.read()
    if not query or not query.strip():
        raise click.UsageError("no query: give QUERY, '-' for standard input, or --file PATH")
    con, which = _open_for_reading(settings, working)
    try:
        try:
            rel = con.sql(query)
        except duckdb.Error as exc:
            raise Failure(sql_output.explain_error(exc, query, which)) from None
        if rel is None:
            return
        if out_format == "table":
            sql_output.rounded(rel).show(max_rows=max_rows, max_width=200)
        else:
            sql_output.write(con, query, out_format, sys.stdout)
    finally:
        con.close()


@main.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False), default="demo", show_default=True,
              help="Where the demo writes everything (git-ignored).")
@click.option("--weeks", default=16, show_default=True, help="Weeks of the generated training block.")
@click.option("--units", type=click.Choice(["metric", "imperial"]), default="metric", show_default=True,
              help="Display units of the demo's settings.")
def demo(folder: str, weeks: int, units: str) -> None:
    """Run the whole pipeline on built-in data: local Strava, Garmin Connect and Hevy emulators, FIT files.

    Needs no account and no network; writes under --dir only and leaves nothing running.
    """
    from runlift.flows.demo import run_demo

    try:
        run_demo(Path(folder), weeks=weeks, units=units, echo=click.echo)
    except (click.ClickException, BrokenPipeError):
        raise
    except Exception as exc:
        raise Failure(_explain(exc)) from None


def _run_night(settings: Settings, flow_name: str, use_prefect: bool | None, **kwargs: Any) -> None:
    """The night as a Prefect flow run (a server is configured, or --prefect) or directly."""
    config = str(settings.config_path) if settings.config_path else None
    # the night gets the settings as resolved here (options and RUNLIFT_* included), not only the file
    athlete = settings.athlete_id if settings.sources.get("athlete", "default") != "default" else None
    orchestrated = prefect_configured() if use_prefect is None else use_prefect
    click.echo(f"{flow_name} for {'athlete ' + athlete if athlete else 'every athlete'} into {settings.db_path}"
               + (" (as a Prefect flow run)" if orchestrated else ""), err=True)
    if orchestrated:
        from runlift.flows import nightly

        flow_fn = nightly.nightly_sync if flow_name == "nightly_sync" else nightly.backfill
        report, failure = nightly.run_flow_for_cli(flow_fn, config=config, db=str(settings.db_path),
                                                   athlete=athlete, units=settings.units, **kwargs)
    else:
        from runlift.flows.night import run_night

        _direct_logging()
        report = run_night(config, full=kwargs.get("full", flow_name == "backfill"), wait=kwargs.get("wait", False),
                           as_of=kwargs.get("as_of"), db=str(settings.db_path), athlete=athlete, units=settings.units)
        failure = None if report.ok else "; ".join(report.failures)
        if failure:
            click.echo(report.markdown)  # what did run, then the one line saying what failed
    if failure:
        from runlift.connectors.redact import redact

        click.echo(f"runlift: error: the {flow_name} run failed: {redact(failure, known_secrets(settings), 2000)}",
                   err=True)
        raise SystemExit(1)
    assert report is not None
    click.echo(report.markdown)


@main.command()
@click.option("--full", is_flag=True, help="Full Strava listing (finds deletions and old edits).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of the marts (default: today in the athlete's time zone).")
@PREFECT_OPTION
@common_options(athlete_help=EVERY_ATHLETE_HELP, every_athlete=True)
def sync(settings: Settings, full: bool, as_of: Any, use_prefect: bool | None) -> None:
    """The nightly job, without a Prefect server: Strava and FIT inbox for every athlete, build, publish.

    --athlete limits it to one athlete (the marts are rebuilt for all). The report names the
    warehouse it wrote.

    With a Prefect server configured (or --prefect) it runs as the flow nightly_sync, visible in the
    server's UI; else the same steps run directly, with no server. Exit status 1 when any source
    failed; the other sources still ran.
    """
    _run_night(settings, "nightly_sync", use_prefect, full=full, as_of=as_of.date() if as_of else None)


@main.command()
@click.option("--wait", is_flag=True, help="Sleep through Strava rate-limit windows instead of stopping.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of the marts (default: today in the athlete's time zone).")
@PREFECT_OPTION
@common_options(athlete_help=EVERY_ATHLETE_HELP, every_athlete=True)
def backfill(settings: Settings, wait: bool, as_of: Any, use_prefect: bool | None) -> None:
    """A first import: full Strava listing (resumes across runs) and every FIT inbox, then build and publish.

    --athlete limits it to one athlete, as for `runlift sync`.
    """
    _run_night(settings, "backfill", use_prefect, wait=wait, as_of=as_of.date() if as_of else None)


@main.command("build")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of the marts, YYYY-MM-DD (default: today in the athlete's time zone).")
@click.option("--publish/--no-publish", default=True, show_default=True,
              help="Publish the read-only copy for dashboards after building.")
@common_options
def build_cmd(settings: Settings, as_of: Any, publish: bool) -> None:
    """Rebuild the staging views and the marts (idempotent; one transaction), then publish them."""
    from runlift.flows.build import build_warehouse

    result = build_warehouse(settings, as_of.date() if as_of else None)
    click.echo(f"built marts as of {result.as_of} in {result.seconds:.2f} s: "
               + ", ".join(f"{name} {n}" for name, n in result.rows.items()))
    if result.failures:
        for line in result.failures:
            click.echo(f"model test failed: {line}", err=True)
        raise SystemExit(1)
    if publish:
        from runlift.flows.build import publish_warehouse

        published = publish_warehouse(settings)
        click.echo(f"published for dashboards: {published.path}")
        from runlift.flows.dashboard import write_dashboard_file

        click.echo(f"dashboard: {write_dashboard_file(settings)}")


@main.command()
@click.option("--serve", "serve_it", is_flag=True,
              help="Serve the dashboard on 127.0.0.1, redrawn on every request, until Ctrl-C.")
@click.option("--port", type=int, default=0, show_default=True, help="Port for --serve (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="With --serve: open it in this machine's browser.")
@common_options
def dashboard(settings: Settings, serve_it: bool, port: int, open_browser: bool) -> None:
    """Write runlift's self-contained HTML dashboard beside the published file (or serve it)."""
    from runlift.flows.dashboard import DashboardError, serve, write_dashboard_file

    try:
        if serve_it:
            serve(settings, port=port, open_browser=open_browser, echo=click.echo)
        else:
            click.echo(f"wrote {write_dashboard_file(settings)}")
    except DashboardError as exc:
        raise Failure(str(exc)) from None


@main.command("export")
@click.option("--parquet", "parquet_dir", type=click.Path(file_okay=False), required=True,
              help="Folder for one Parquet file per published marts/staging table.")
@common_options(athlete_help="Only this athlete's rows (env RUNLIFT_ATHLETE; default: every athlete).",
                every_athlete=True, units=False)
def export_cmd(settings: Settings, parquet_dir: str) -> None:
    """Export the published file as Parquet (reads only the published file, read-only).

    Values are as stored (SI, the unit in the column name), so there is no --units.
    """
    from runlift.warehouse.export import export_parquet

    published = settings.published_path
    if not published.exists():
        raise Failure(f"no published file at {published}; run `runlift build` first")
    athlete = settings.athlete_id if settings.sources.get("athlete", "default") != "default" else None
    written = export_parquet(published, Path(parquet_dir), athlete_id=athlete)
    for name, path in written.items():
        click.echo(f"{name}: {path}")
    click.echo(f"exported {len(written)} tables from {published}" + (f" (athlete {athlete} only)" if athlete else ""))


@main.group()
def strava() -> None:
    """Strava: authorize, sync, forget, and a local Strava API emulator."""


@strava.command("auth")
@click.option("--port", type=int, default=None,
              help="Port on 127.0.0.1 for Strava's redirect (setting strava.callback_port).")
@click.option("--timeout", "timeout_s", default=300.0, show_default=True, help="Seconds to wait for the approval.")
@click.option("--open-browser/--no-open-browser", default=False, show_default=True,
              help="Open the authorization URL in a browser on this machine.")
@common_options(units=False)
def strava_auth(settings: Settings, port: int | None, timeout_s: float, open_browser: bool) -> None:
    """Authorize runlift to read your Strava activities (scope activity:read_all).

    Prints the authorization URL, receives Strava's redirect on 127.0.0.1, exchanges the code and
    stores the tokens in the athlete's token file (mode 0600).
    """
    from runlift.flows.strava_auth import authorize

    path = authorize(settings, settings.athlete_id, port=port, timeout_s=timeout_s, open_browser=open_browser,
                     echo=lambda m: click.echo(m, err=True))
    click.echo(f"authorized; tokens saved to {path}")


@strava.command("sync")
@click.option("--full", is_flag=True, help="List every activity (also finds deletions and old edits).")
@click.option("--wait", is_flag=True, help="Sleep through rate-limit windows instead of stopping (one-off backfills).")
@click.option("--details/--no-details", default=None,
              help="Detail calls for device name, calories, perceived exertion (setting strava.fetch_details).")
@BUILD_OPTION
@common_options(units=False)
def strava_sync_cmd(settings: Settings, full: bool, wait: bool, details: bool | None, rebuild: bool) -> None:
    """Sync activities and run streams from Strava into the warehouse (incremental by default).

    Stops cleanly before a rate-limit window would be exceeded and resumes on the next run.
    Exit status 1 when the sync failed (Strava unreachable, authorization refused, application inactive).
    """
    import dataclasses

    from runlift.flows.strava_sync import sync_paths

    if details is not None:
        settings = dataclasses.replace(settings, strava=dataclasses.replace(settings.strava, fetch_details=details))
    from runlift.connectors.redact import redact

    result = sync_paths(settings, settings.athlete_id, full=full, wait=wait, log=lambda m: click.echo(m, err=True))
    for line in result.lines():
        click.echo(redact(line, known_secrets(settings), limit=1000))
    if rebuild and (result.new or result.updated or result.deleted):
        _build_and_point(settings)
    if not result.ok:
        click.echo(f"runlift: error: Strava sync failed: {redact(result.message, known_secrets(settings))}", err=True)
        raise SystemExit(1)


@strava.command("forget")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@common_options(units=False)
def strava_forget(settings: Settings, yes: bool) -> None:
    """Delete the athlete's Strava data and tokens (as Strava's terms require on deauthorization)."""
    from runlift.flows.strava_sync import forget_athlete

    if not yes:
        click.confirm(f"delete every Strava activity, stream and token of athlete {settings.athlete_id} "
                      f"from {settings.db_path}?", abort=True)
    counts, removed = forget_athlete(settings, settings.athlete_id)
    click.echo(f"deleted {counts['raw.strava_activities']} activities and {counts['raw.strava_streams']} streams; "
               f"token file {'removed' if removed else 'was not there'}")


@strava.command("emulator", add_help_option=False,
                context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def strava_emulator(ctx: click.Context) -> None:
    """Serve a local Strava API on 127.0.0.1 seeded with a synthetic season (options: --help)."""
    from runlift.standins.strava_emulator import main as emulator_main

    emulator_main(list(ctx.args), prog="runlift strava emulator")



@main.command("import-lifts")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--weight-unit", type=click.Choice(["kg", "lb"]), default=None,
              help="Unit of the weights, for a Strong export that does not say (as set in Strong).")
@click.option("--distance-unit", type=click.Choice(["m", "km", "mi"]), default=None,
              help="Unit of the distances, for a Strong export that does not say (as set in Strong).")
@common_options(units=False)
def import_lifts_cmd(settings: Settings, files: tuple[str, ...], weight_unit: str | None,
                     distance_unit: str | None) -> None:
    """Import lifting sets from a Strong or Hevy CSV export (recognised by its header).

    Weights and distances are stored in kg and m whatever units the export used. Importing the same
    export again, or a later export that contains it, adds nothing.
    """
    from runlift.connectors.lift_csv import LiftCsvError
    from runlift.flows.lift_import import import_lifts

    failed = []
    for name in files:
        try:
            result = import_lifts(settings, settings.athlete_id, Path(name), weight_unit=weight_unit,
                                  distance_unit=distance_unit)
        except LiftCsvError as exc:
            failed.append(f"{name}: {exc}")
            continue
        for line in result.lines():
            click.echo(line)
    if failed:
        raise Failure("; ".join(failed))

@main.group()
def lake() -> None:
    """The lake mode's warehouse (setting warehouse.lake, docs/lake.md): maintenance."""


@lake.command("maintain")
@common_options(athlete=False, units=False)
def lake_maintain(settings: Settings) -> None:
    """Merge the lake's small files, expire snapshots older than warehouse.lake_expire_snapshots_days
    and delete the files nothing needs any more (the nightly sync runs it after publishing)."""
    from runlift.flows.build import maintain_lake_of

    if settings.lake is None:
        raise Failure("the warehouse is a DuckDB file, not a lake: nothing to maintain (set warehouse.lake, "
                      "docs/lake.md)")
    r = maintain_lake_of(settings)
    files = "" if r.files_before < 0 else f"Parquet files {r.files_before} -> {r.files_after}, "
    click.echo(f"lake maintained in {r.seconds:.1f} s: {files}snapshots {r.snapshots_before} -> "
               f"{r.snapshots_after}, {r.files_deleted} old files deleted")


@main.group()
def hevy() -> None:
    """Hevy (lifts logged in the Hevy app, API key of Hevy Pro): sync, and a local Hevy API emulator."""


@hevy.command("sync")
@click.option("--full", is_flag=True, help="List every workout (also marks the ones deleted in Hevy); "
              "default: the events feed since the last sync.")
@common_options(units=False)
def hevy_sync_cmd(settings: Settings, full: bool) -> None:
    """Sync workouts, exercise templates and body measurements from Hevy into the warehouse.

    The API key comes from HEVY_API_KEY (or hevy.api_key / athletes.<id>.hevy_api_key) and is never
    written anywhere. Incremental through Hevy's events feed; a full listing on the first sync or with
    --full. A 429 stops the run cleanly and the next run resumes. Exit status 1 when the sync failed
    (key refused, Hevy unreachable).
    """
    from runlift.connectors.redact import redact
    from runlift.flows.hevy_sync import sync_paths

    result = sync_paths(settings, settings.athlete_id, full=full, log=lambda m: click.echo(m, err=True))
    secrets = known_secrets(settings)
    if not result.ok and not (result.new or result.updated or result.deleted):
        raise Failure(f"Hevy sync failed: {redact(result.message, secrets)}")
    for line in result.lines():
        click.echo(redact(line, secrets, limit=1000))
    if not result.ok:
        click.echo(f"runlift: error: Hevy sync failed: {redact(result.message, secrets)}", err=True)
        raise SystemExit(1)


@hevy.command("emulator", add_help_option=False,
              context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def hevy_emulator(ctx: click.Context) -> None:
    """Serve a local Hevy API on 127.0.0.1 seeded with the synthetic athlete's gym sessions (options: --help)."""
    from runlift.standins.hevy_emulator import main as emulator_main

    emulator_main(list(ctx.args), prog="runlift hevy emulator")


@main.group()
def garmin() -> None:
    """Garmin Connect: sign in, sync, and a local Garmin Connect emulator (docs/garmin.md)."""


@garmin.command("auth")
@click.option("--email", default=None, help="Garmin account email (env GARMIN_EMAIL; asked when not given).")
@common_options(units=False)
def garmin_auth(settings: Settings, email: str | None) -> None:
    """Sign in to Garmin Connect once and keep only the tokens (mode 0600), never the password.

    The password comes from GARMIN_PASSWORD or is asked for (not echoed); an MFA code is asked for
    when Garmin wants one. Uses the garminconnect library (setting garmin.base_url / env
    RUNLIFT_GARMIN_BASE_URL pointing elsewhere: that server's sign-in, e.g. the emulator's).
    """
    from runlift.connectors.garmin.client import sign_in
    from runlift.connectors.garmin.tokens import GarminTokenStore

    email = email or os.environ.get("GARMIN_EMAIL")
    password = os.environ.get("GARMIN_PASSWORD")
    if not (email and password) and not sys.stdin.isatty():
        raise Failure("Garmin sign-in needs an email and a password: run it at a terminal (it asks), or give "
                      "--email / GARMIN_EMAIL and GARMIN_PASSWORD")
    email = email or click.prompt("Garmin email", err=True)
    password = password or click.prompt("Garmin password", hide_input=True, err=True)
    tokens = sign_in(settings.garmin.base_url, email, password,
                     prompt_mfa=lambda: str(click.prompt("Garmin MFA code", err=True)).strip())
    del password
    path = settings.garmin_token_file(settings.athlete_id)
    GarminTokenStore(path).save(tokens)
    click.echo(f"signed in; Garmin tokens saved to {path} (mode 0600; the password was not kept)")


@garmin.command("sync")
@BUILD_OPTION
@common_options(units=False)
def garmin_sync_cmd(settings: Settings, rebuild: bool) -> None:
    """Download new activities' original FIT files and the weigh-ins from Garmin Connect.

    One request at a time (setting garmin.pace_s). Stops on a 429 (the next run resumes) or a
    sign-in challenge (one line). Exit status 1 when the sync failed or was stopped; 2 when the athlete
    is not signed in.
    """
    from runlift.connectors.redact import redact
    from runlift.flows.garmin_sync import garmin_enabled, sync_paths

    if not garmin_enabled(settings, settings.athlete_id):
        raise Failure(f"athlete {settings.athlete_id} is not signed in to Garmin Connect (no token file at "
                      f"{settings.garmin_token_file(settings.athlete_id)}); run `runlift garmin auth` first")
    result = sync_paths(settings, settings.athlete_id, log=lambda m: click.echo(m, err=True))
    for line in result.lines():
        click.echo(redact(line, known_secrets(settings), limit=1000))
    if rebuild and (result.fit.files_new or result.weigh_ins):
        _build_and_point(settings)
    if result.status != "complete":
        what = "stopped" if result.status == "paused" else "failed"
        click.echo(f"runlift: error: Garmin Connect sync {what}: {redact(result.message, known_secrets(settings))}",
                   err=True)
        raise SystemExit(1)


@garmin.command("emulator", add_help_option=False,
                context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def garmin_emulator(ctx: click.Context) -> None:
    """Serve a folder of FIT files as a local Garmin Connect account on 127.0.0.1 (options: --help)."""
    from runlift.standins.garmin_emulator import main as emulator_main

    emulator_main(list(ctx.args), prog="runlift garmin emulator")

if __name__ == "__main__":
    main()
