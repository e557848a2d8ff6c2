"""Prefect flows ``nightly_sync`` and ``backfill``: the night of :mod:`runlift.flows.night` on Prefect.

The steps are the same plain functions `runlift sync` runs without a server, wrapped here in
Prefect tasks (each step one task, visible in the UI), with the night's summary as a markdown
artifact. The run's final state is Failed, with the reasons, when any source failed. Besides the
settings file (``config``) the flows take the overrides the command line has (``db``,
``athlete``, ``units``), so `runlift sync --prefect --db ...` and a deployment's parameters
reach every task; ``athlete`` limits the night to that athlete.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from runlift.flows import night
from runlift.flows.night import NightReport, Steps, _summary_markdown, notify, run_night

# the night's report, summary and webhook live in runlift.flows.night; kept reachable from here
__all__ = ["NightFailed", "NightReport", "Steps", "_summary_markdown", "backfill", "build_marts", "import_fit_inbox",
           "nightly_sync", "notify", "publish_for_dashboards", "run_flow_for_cli", "run_night", "sync_garmin",
           "sync_hevy",
           "sync_strava", "write_dashboard", "maintain_lake"]

sync_strava = task(name="sync-strava", task_run_name="strava {athlete_id}", retries=0)(night.sync_strava)
sync_garmin = task(name="sync-garmin", task_run_name="garmin {athlete_id}", retries=0)(night.sync_garmin)
import_fit_inbox = task(name="import-fit-inbox", task_run_name="fit inbox {athlete_id}")(night.import_fit_inbox)
sync_hevy = task(name="sync-hevy", task_run_name="hevy {athlete_id}", retries=0)(night.sync_hevy)
build_marts = task(name="build-marts")(night.build_marts)
publish_for_dashboards = task(name="publish")(night.publish_for_dashboards)
write_dashboard = task(name="write-dashboard")(night.write_dashboard)
maintain_lake = task(name="maintain-lake")(night.maintain_lake)  # nights with warehouse.lake set (docs/lake.md)


class NightFailed(RuntimeError):
    pass


def _prefect_steps() -> Steps:
    def artifact(markdown: str) -> None:
        create_markdown_artifact(key="runlift-night", markdown=markdown, description="What the night did")

    return Steps(sync_strava=sync_strava, sync_garmin=sync_garmin, import_fit_inbox=import_fit_inbox,
                 sync_hevy=sync_hevy, build_marts=build_marts, publish=publish_for_dashboards,
                 write_dashboard=write_dashboard, maintain_lake=maintain_lake, logger=get_run_logger(),
                 artifact=artifact)


@flow(name="nightly_sync")
def nightly_sync(config: str | None = None, full: bool = False, as_of: dt.date | None = None, db: str | None = None,
                 athlete: str | None = None, units: str | None = None) -> NightReport:
    """The nightly job: Strava + Garmin Connect + FIT inbox for every athlete → build → publish → summary artifact.

    ``db``, ``athlete`` and ``units`` override the settings file (as --db, --athlete, --units do);
    ``athlete`` limits the night to that athlete.
    """
    report = run_night(config, full=full, wait=False, as_of=as_of, db=db, athlete=athlete, units=units,
                       steps=_prefect_steps())
    if not report.ok:
        raise NightFailed("; ".join(report.failures))
    return report


@flow(name="backfill")
def backfill(config: str | None = None, wait: bool = False, as_of: dt.date | None = None, db: str | None = None,
             athlete: str | None = None, units: str | None = None) -> NightReport:
    """A first import: full Strava listing (resumable across runs) and every FIT inbox, then build.

    ``db``, ``athlete`` and ``units`` as for nightly_sync.
    """
    report = run_night(config, full=True, wait=wait, as_of=as_of, db=db, athlete=athlete, units=units,
                       steps=_prefect_steps())
    if not report.ok:
        raise NightFailed("; ".join(report.failures))
    return report


def run_flow_for_cli(flow_fn: Any, **kwargs: Any) -> tuple[NightReport | None, str | None]:
    """Run a flow and return (report, failure message) instead of raising."""
    state = flow_fn(return_state=True, **kwargs)
    if state.is_completed():
        return state.result(), None
    try:
        state.result()
    except Exception as exc:
        return None, str(exc)
    return None, state.message or "the flow did not complete"
