"""A coach's squad on Prefect work pools: ``squad_nightly`` fans out one ``athlete_nightly`` flow run
per athlete, then builds the marts and publishes once (docs/scale.md).

* ``athlete_nightly``: one athlete's sources of the night (Strava, Garmin Connect, FIT inbox, Hevy:
  :func:`runlift.flows.night.sync_sources`), no build, no publish. Its writes wait for the warehouse
  (the lock file of the embedded warehouse: up to ``lock_timeout_s``, then that source fails with a
  clear message) instead of failing at once when another athlete's run is writing. Its Strava
  requests take their turn in the application's shared rate limit (below). It ends Failed, with the
  reasons, when a source failed.
* ``squad_nightly``: starts ``athlete_nightly`` through its deployment (``run_deployment``,
  parameters ``athlete_id``, ``config``, ``db``, ...) on the ``runlift`` work pool, so any worker
  of the pool runs it (process workers on several machines, or a Kubernetes pool); how many run at
  once is the pool's (or its ``athletes`` queue's) concurrency limit. It waits for every run, then
  builds the marts and publishes once, for everybody; failed athletes are reported by name with
  their error (the run ends Failed after the build), the others are built.

The Strava budget is per application, shared by every athlete's token, so by every worker: a
Prefect global concurrency limit (``strava-requests``) used as a rate limit. Every Strava API
request first takes a slot (``prefect.concurrency.sync.rate_limit``), which the Prefect server
grants atomically to whichever worker asks; slots come back at ``slot_decay_per_second``. The
limit (``burst``) and the decay are set so that no 15-minute interval can hold more than the
window's budget: ``burst + decay * window_s <= budget - headroom``. The daily budget is left to
each client's :class:`~runlift.connectors.strava.client.RateBudget`, which reads the application's
usage from every response's headers and pauses the athlete (resumed the next night). Why this and
not a budget table in the warehouse: docs/scale.md.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from runlift.connectors.redact import redact
from runlift.flows import night
from runlift.flows.fit_pipeline import ImportSummary, import_paths
from runlift.flows.garmin_sync import GarminResult
from runlift.flows.garmin_sync import sync_paths as garmin_sync_paths
from runlift.flows.hevy_sync import HevySyncResult
from runlift.flows.hevy_sync import sync_paths as hevy_sync_paths
from runlift.flows.settings import Settings, SettingsError, known_secrets, load_settings
from runlift.flows.strava_sync import SyncResult, sync_paths
from runlift.warehouse import db as wdb

__all__ = ["ATHLETE_DEPLOYMENT", "CRASH_AUTOMATION", "AthleteFailed", "SquadFailed", "SquadReport", "athlete_nightly",
           "ensure_crash_automation", "ensure_strava_limit", "squad_nightly", "strava_pace"]

STRAVA_LIMIT = "strava-requests"
ATHLETE_DEPLOYMENT = "athlete_nightly/athlete-nightly"
LOCK_TIMEOUT_S = 3600.0  # an athlete's write waits this long for the warehouse, then that source fails
STRAVA_WINDOW_BUDGET = 100  # Strava's standard read limit per 15 minutes (the one our GETs hit first)


class AthleteFailed(RuntimeError):
    pass


class SquadFailed(RuntimeError):
    pass


# --- the shared Strava budget ----------------------------------------------------------------


def strava_pace(window_budget: int, window_s: int, headroom: int) -> tuple[int, float]:
    """(limit, slot_decay_per_second) of the rate limit that keeps every ``window_s`` interval at
    ``window_budget - headroom`` requests or fewer: ``limit + decay * window_s`` is that number.

    Strava's windows are fixed (:00, :15, ...), a Prefect rate limit is a leaky bucket: ``limit``
    slots may go at once, then one per ``1 / decay`` seconds. Any fixed window is an interval of
    ``window_s``, so it never holds more than ``limit + decay * window_s``. A small burst (a tenth)
    keeps most of the window's budget for the steady pace."""
    capacity = window_budget - headroom
    if capacity < 2:
        raise SettingsError(f"a Strava window budget of {window_budget} requests with a headroom of {headroom} "
                            "leaves no room for a shared rate limit")
    burst = max(1, capacity // 10)
    return burst, (capacity - burst) / window_s


def ensure_strava_limit(name: str, settings: Settings, window_budget: int) -> tuple[int, float]:
    """Create (or update) the global concurrency limit ``name`` that paces every worker's Strava requests."""
    from prefect.client.orchestration import get_client

    limit, decay = strava_pace(window_budget, settings.strava.rate_window_s, settings.strava.rate_headroom)
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, limit, slot_decay_per_second=decay)
    return limit, decay


def strava_turn(name: str, timeout_s: float | None = None) -> Callable[[], None]:
    """What the Strava client calls before each request: wait for a slot of the shared rate limit."""
    from prefect.concurrency.sync import rate_limit

    def take() -> None:
        rate_limit(name, occupy=1, timeout_seconds=timeout_s, strict=True)

    return take


# --- runs whose machine is gone ---------------------------------------------------------------

CRASH_AUTOMATION = "runlift: crash athlete runs whose heartbeats stopped"
HEARTBEAT_TIMEOUT_S = 90.0  # 3 heartbeats at PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30 (prefect.yaml's athlete-nightly)


def ensure_crash_automation(within_s: float = HEARTBEAT_TIMEOUT_S, name: str = CRASH_AUTOMATION,
                            flow_name: str = "athlete_nightly") -> tuple[str, str]:
    """Create (or update) the two automations that mark a flow run Crashed when its machine is gone
    (Prefect's zombie-run pattern, docs.prefect.io "detect zombie flows"): ``name``, a run whose
    heartbeats stop for ``within_s`` seconds (a worker killed with its runs, a machine gone, a
    container evicted), and ``name (stuck in Pending)``, a run that a worker took (Pending) and
    never started within ``within_s`` (the worker died while starting its process: no heartbeat
    ever comes). The squad then sees the run final and goes on, reporting that athlete failed,
    instead of waiting ``timeout_s``.

    Only runs of the flow ``flow_name`` (``athlete_nightly``) are watched: every flow run sends
    heartbeats, by default every 180 s, so a rule for all of them would crash the squad's own run,
    or anybody's ``nightly_sync``, 90 s into it. The athlete runs' heartbeats come every 30 s (the
    least Prefect takes) from ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` in the deployment's
    ``job_variables.env`` (prefect.yaml) or the worker's environment; ``within_s`` must leave room
    for two of them. Returns the two automations' ids."""
    from datetime import timedelta

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    if within_s < 10:
        raise SettingsError(f"a heartbeat timeout of {within_s:g} s is below Prefect's least (10 s)")
    ended = {"prefect.flow-run.Completed", "prefect.flow-run.Failed", "prefect.flow-run.Cancelled",
             "prefect.flow-run.Crashed"}
    rules = [(name, "prefect.flow-run.heartbeat", {"prefect.flow-run.heartbeat", *ended},
              f"no heartbeat for {within_s:.0f} s: its worker or machine is gone"),
             (f"{name} (stuck in Pending)", "prefect.flow-run.Pending", {"prefect.flow-run.Running", *ended},
              f"taken by a worker but not started within {within_s:.0f} s: its worker or machine is gone")]
    ids = []
    with get_client(sync_client=True) as client:
        for rule_name, after, expect, message in rules:
            trigger = EventTrigger(
                after={after}, expect=expect,
                match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
                match_related=ResourceSpecification({"prefect.resource.role": "flow",
                                                     "prefect.resource.name": flow_name}),
                for_each={"prefect.resource.id"}, posture=Posture.Proactive, threshold=1,
                within=timedelta(seconds=within_s))
            automation = AutomationCore(
                name=rule_name, enabled=True, trigger=trigger,
                actions=[ChangeFlowRunState(name=None, state=StateType.CRASHED, force=False, message=message)],
                description=f"Marks a {flow_name} flow run Crashed when its worker is gone (runlift's squad_nightly "
                            "creates it; docs/scale.md)")
            found = client.read_automations_by_name(rule_name)
            if found:
                client.update_automation(found[0].id, automation)
                ids.append(str(found[0].id))
            else:
                ids.append(str(client.create_automation(automation)))
    return ids[0], ids[1]


# --- one athlete's steps (each a Prefect task in athlete_nightly) ------------------------------


def sync_strava(config: str | None, athlete_id: str, full: bool = False, wait: bool = False, db: str | None = None,
                units: str | None = None, strava_limit: str | None = STRAVA_LIMIT,
                lock_timeout_s: float = LOCK_TIMEOUT_S) -> SyncResult:
    settings = load_settings(config, db=db, athlete=athlete_id, units=units)
    return sync_paths(settings, athlete_id, full=full, wait=wait, log=night._log().info, lock_timeout_s=lock_timeout_s,
                      before_call=strava_turn(strava_limit) if strava_limit else None)


def sync_garmin(config: str | None, athlete_id: str, db: str | None = None,
                lock_timeout_s: float = LOCK_TIMEOUT_S) -> GarminResult:
    settings = load_settings(config, db=db, athlete=athlete_id)
    return garmin_sync_paths(settings, athlete_id, log=night._log().info, lock_timeout_s=lock_timeout_s)


def import_fit_inbox(config: str | None, athlete_id: str, db: str | None = None,
                     lock_timeout_s: float = LOCK_TIMEOUT_S) -> ImportSummary:
    settings = load_settings(config, db=db, athlete=athlete_id)
    folders = [str(p) for p in settings.athletes[athlete_id].fit_inbox]
    # one decoding process: the pool's concurrency is the squad's parallelism
    # settings.target: the lake where warehouse.lake is set (docs/lake.md), else the file
    return import_paths(settings.target, athlete_id, folders, workers=1, lock_timeout_s=lock_timeout_s)


def sync_hevy(config: str | None, athlete_id: str, full: bool = False, db: str | None = None,
              lock_timeout_s: float = LOCK_TIMEOUT_S) -> HevySyncResult:
    settings = load_settings(config, db=db, athlete=athlete_id)
    return hevy_sync_paths(settings, athlete_id, full=full, log=night._log().info, lock_timeout_s=lock_timeout_s)


strava_task = task(name="sync-strava", task_run_name="strava {athlete_id}", retries=0)(sync_strava)
garmin_task = task(name="sync-garmin", task_run_name="garmin {athlete_id}", retries=0)(sync_garmin)
fit_task = task(name="import-fit-inbox", task_run_name="fit inbox {athlete_id}")(import_fit_inbox)
hevy_task = task(name="sync-hevy", task_run_name="hevy {athlete_id}", retries=0)(sync_hevy)


@flow(name="athlete_nightly", flow_run_name="athlete {athlete_id}")
def athlete_nightly(athlete_id: str, config: str | None = None, db: str | None = None, units: str | None = None,
                    full: bool = False, strava_limit: str | None = STRAVA_LIMIT,
                    lock_timeout_s: float = LOCK_TIMEOUT_S) -> dict[str, Any]:
    """One athlete's night without build or publish: Strava (paced by the shared rate limit
    ``strava_limit``; None: only the client's own budget), Garmin Connect, FIT inbox, Hevy.

    Fails, with the reasons, when a source failed; returns counts of what it brought in."""
    logger = get_run_logger()
    settings = load_settings(config, db=db, athlete=athlete_id, units=units)
    report = night.NightReport(started_at=wdb.utcnow(), athletes=[athlete_id], warehouse=settings.db_path)

    def fail(text: str) -> None:
        report.failures.append(redact(text, known_secrets(settings), limit=2000))

    steps = night.Steps(
        sync_strava=lambda *a, **k: strava_task(*a, **k, strava_limit=strava_limit, lock_timeout_s=lock_timeout_s),
        sync_garmin=lambda *a, **k: garmin_task(*a, **k, lock_timeout_s=lock_timeout_s),
        import_fit_inbox=lambda *a, **k: fit_task(*a, **k, lock_timeout_s=lock_timeout_s),
        sync_hevy=lambda *a, **k: hevy_task(*a, **k, lock_timeout_s=lock_timeout_s),
        logger=logger)
    night.sync_sources(config, athlete_id, settings, steps, report, fail, logger, full=full, wait=False,
                       db=db, units=units)  # db None: each step resolves it as this worker's settings say
    for skip in report.skipped:
        logger.info("skipped: %s", skip)
    if report.failures:
        raise AthleteFailed("; ".join(report.failures))
    s, f = report.strava.get(athlete_id), report.fit.get(athlete_id)
    return {"athlete_id": athlete_id,
            "strava": {"status": s.status, "new": s.new, "api_calls": s.api_calls} if s else None,
            "fit_files_new": f.files_new if f else None}


# --- the squad -------------------------------------------------------------------------------


@dataclass
class SquadReport:
    started_at: dt.datetime
    athletes: list[str] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)  # athlete -> final state name
    failed: dict[str, str] = field(default_factory=dict)  # athlete -> its error
    failures: list[str] = field(default_factory=list)  # build/publish and the squad's own
    seconds: float = 0.0
    built: bool = False
    markdown: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.failures


POLL_BATCH = 200  # flow runs read per request while waiting (the API's page size)


def _states(client: Any, ids: list[Any], by_id: dict[str, str]) -> list[tuple[str, Any]]:
    """(athlete, final state) of those runs among ``ids`` that have ended, a page of runs per request
    and only the ended ones sent back: a squad of hundreds polled run by run, or every run read at
    every poll, would keep the Prefect server busy answering the squad instead of the workers."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    ended = FlowRunFilterState(type=FlowRunFilterStateType(any_=[
        StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]))
    out = []
    for i in range(0, len(ids), POLL_BATCH):
        chunk = ids[i:i + POLL_BATCH]
        for run in client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=chunk), state=ended),
                                         limit=len(chunk)):
            out.append((by_id[str(run.id)], run.state))
    return out


def _state_error(state: Any) -> str:
    """The athlete run's own error from its final state (Prefect prefixes the exception's text)."""
    message = str(getattr(state, "message", "") or getattr(state, "name", "") or "no message")
    for prefix in ("Flow run encountered an exception: ", f"{AthleteFailed.__name__}: "):
        message = message.removeprefix(prefix)
    return message


def _markdown(report: SquadReport) -> str:
    lines = [f"# runlift squad night of {report.started_at:%Y-%m-%d %H:%M} UTC", "",
             "**Status: " + ("ok" if report.ok else "FAILED") + "**", "",
             f"{len(report.athletes)} athletes in {report.seconds:.0f} s; "
             f"{len(report.athletes) - len(report.failed)} ok, {len(report.failed)} failed; "
             f"marts {'built and published' if report.built else 'NOT built'}.", "",
             "| athlete | run | error |", "|---|---|---|"]
    for athlete_id in report.athletes:
        error = report.failed.get(athlete_id, "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {athlete_id} | {report.states.get(athlete_id, '-')} | {error} |")
    lines += [f"- failed: {f}" for f in report.failures]
    return "\n".join(lines) + "\n"


@flow(name="squad_nightly")
def squad_nightly(config: str | None = None, db: str | None = None, units: str | None = None,
                  athletes: list[str] | None = None, full: bool = False, as_of: dt.date | None = None,
                  deployment: str = ATHLETE_DEPLOYMENT, strava_limit: str | None = STRAVA_LIMIT,
                  strava_window_budget: int = STRAVA_WINDOW_BUDGET, lock_timeout_s: float = LOCK_TIMEOUT_S,
                  timeout_s: float = 8 * 3600.0, poll_s: float = 2.0,
                  heartbeat_timeout_s: float | None = HEARTBEAT_TIMEOUT_S) -> SquadReport:
    """Every athlete's night as its own flow run on the work pool, then one build and publish.

    ``athletes``: these athletes (default every configured one). ``deployment``: the
    ``athlete_nightly`` deployment to run (prefect.yaml's ``athlete-nightly``). ``strava_limit``: the
    shared Strava rate limit's name (created or updated from ``strava_window_budget``, requests per
    15 minutes the application may spend; None: none). ``timeout_s``: how long to wait for the
    athletes' runs; those not finished by then are reported failed, the others are built.
    ``heartbeat_timeout_s``: an athlete run whose heartbeats stop this long is marked Crashed (the
    automation :func:`ensure_crash_automation` creates; None: not created), so a killed worker's
    runs end within it instead of at ``timeout_s``."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext
    from prefect.deployments import run_deployment

    logger = get_run_logger()
    t0 = time.monotonic()
    settings = night.night_settings(config, db, None, units)
    report = SquadReport(started_at=wdb.utcnow(), athletes=list(athletes or settings.athletes))
    unknown = [a for a in report.athletes if a not in settings.athletes]
    for a in unknown:
        report.failed[a], report.states[a] = f"no athlete {a!r} in the settings ({', '.join(settings.athletes)})", "-"
    if strava_limit:
        limit, decay = ensure_strava_limit(strava_limit, settings, strava_window_budget)
        logger.info("Strava rate limit %r: %d at once, then %.3f per second (%d per %d s)", strava_limit, limit,
                    decay, limit + int(decay * settings.strava.rate_window_s), settings.strava.rate_window_s)
    if heartbeat_timeout_s is not None:
        ensure_crash_automation(heartbeat_timeout_s)
        logger.info("runs without a heartbeat for %.0f s are marked Crashed (automation %r)", heartbeat_timeout_s,
                    CRASH_AUTOMATION)
    ctx = FlowRunContext.get()
    parent = str(ctx.flow_run.id) if ctx is not None and ctx.flow_run is not None else wdb.utcnow().isoformat()
    runs: dict[str, Any] = {}
    for athlete_id in report.athletes:
        if athlete_id in unknown:
            continue
        params = {"athlete_id": athlete_id, "config": config, "db": db, "units": units, "full": full,
                  "strava_limit": strava_limit, "lock_timeout_s": lock_timeout_s}
        # the key makes a retried squad run find its athletes' runs instead of starting them twice
        runs[athlete_id] = run_deployment(name=deployment, parameters=params, timeout=0, as_subflow=True,
                                          flow_run_name=f"athlete {athlete_id}",
                                          idempotency_key=f"squad-{parent}-{athlete_id}")
    logger.info("started %d athlete runs of %s", len(runs), deployment)
    pending = dict(runs)
    deadline = time.monotonic() + timeout_s
    by_id = {str(run.id): athlete_id for athlete_id, run in runs.items()}
    with get_client(sync_client=True) as client:
        while pending:
            for athlete_id, state in _states(client, [pending[a].id for a in pending], by_id):
                if state is not None and state.is_final():
                    report.states[athlete_id] = str(state.name or state.type.value)
                    if not state.is_completed():
                        report.failed[athlete_id] = _state_error(state)
                    del pending[athlete_id]
            if pending and time.monotonic() > deadline:
                for athlete_id in pending:
                    report.states[athlete_id] = "not finished"
                    report.failed[athlete_id] = f"not finished after {timeout_s:.0f} s (left running)"
                break
            if pending:
                time.sleep(poll_s)
    from runlift.flows.nightly import build_marts, publish_for_dashboards, write_dashboard

    resolved = str(settings.db_path)
    try:
        build = build_marts(config, as_of, db=resolved, units=units)  # every athlete's marts, once
        if build.failures:
            report.failures.append("model tests: " + "; ".join(build.failures))
        publish_for_dashboards(config, db=resolved)
        write_dashboard(config, db=resolved, units=units)
        report.built = True
    except Exception as exc:
        report.failures.append(redact(f"build/publish: {exc}", known_secrets(settings), limit=2000))
    if settings.lake is not None:  # the lake mode's nightly maintenance (docs/lake.md)
        try:
            night.maintain_lake(config, db=db)
        except Exception as exc:
            report.failures.append(redact(f"lake maintenance: {exc}", known_secrets(settings), limit=2000))
    report.seconds = time.monotonic() - t0
    report.markdown = _markdown(report)
    try:
        create_markdown_artifact(key="runlift-squad-night", markdown=report.markdown, description="The squad's night")
    except Exception as exc:  # an artifact is a nicety
        logger.warning("could not write the Prefect artifact: %s", exc)
    logger.info("summary of the squad's night:\n%s", report.markdown)
    if not report.ok:
        reasons = [f"{a}: {e}" for a, e in report.failed.items()] + report.failures
        raise SquadFailed(f"{len(report.failed)} of {len(report.athletes)} athletes failed (the others are built): "
                          + "; ".join(reasons))
    return report
