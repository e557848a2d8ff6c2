"""Prefect flow ``strava_sync``: every configured athlete (or one) synced from Strava.

No Prefect task retries here: the client already retries connection errors, timeouts and 5xx a
bounded number of times, and stacking retries would burn the rate budget; a 429 is never retried
in the same run.
"""

from __future__ import annotations

import os

from prefect import flow, get_run_logger, task

from flows.settings import load_settings
from flows.strava_sync import SyncResult, sync_paths


@task(name="sync-strava-athlete", task_run_name="strava {athlete_id}", retries=0)
def sync_strava_athlete(config: str | None, athlete_id: str, full: bool = False, wait: bool = False) -> SyncResult:
    logger = get_run_logger()
    settings = load_settings(config, athlete=athlete_id)
    result = sync_paths(settings, athlete_id, full=full, wait=wait, log=logger.info)
    for line in result.lines():
        (logger.info if result.ok else logger.error)(line)
    return result


@flow(name="strava_sync")
def strava_sync(config: str | None = None, athlete: str | None = None, full: bool = False) -> list[SyncResult]:
    """Sync Strava for one athlete, or for every configured athlete with a token file."""
    settings = load_settings(config, athlete=athlete, require_athlete=athlete is not None)
    chosen = [athlete] if athlete else [a for a in settings.athletes if settings.token_file(a).exists()]
    if not chosen and os.environ.get("STRAVA_REFRESH_TOKEN"):
        chosen = [settings.athlete_id]  # first unattended run: the refresh token comes from the environment
    results = [sync_strava_athlete(config, a, full=full) for a in chosen]
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError("; ".join(f"{r.athlete_id}: {r.message}" for r in failed))
    return results
