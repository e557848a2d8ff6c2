"""A coach's squad of synthetic athletes for tests and benches: one Strava emulator serving N
athletes (each its own tokens and its own season, the application's rate limits shared), each
athlete's generated FIT inbox, and a settings file (``runlift.toml``) with the N athletes and their
token files. The emulator with the N athletes: :func:`runlift.standins.strava_emulator.squad_emulator`.

Athlete ``k`` (0-based) is ``a001``, ``a002``, ... in runlift and Strava athlete ``4242 + k``; its
season is :func:`runlift.standins.season.synthetic_season` with seed ``7 + k`` (deterministic), its
activity ids moved by ``k * 10**11`` so that they are unique across the application as Strava's
are. Athlete 0 is exactly the single emulator's athlete.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlift.standins.season import synthetic_season

__all__ = ["SquadAthlete", "squad_athletes", "squad_season", "write_squad"]

FIRST_STRAVA_ID = 4242
ID_STRIDE = 10**11


@dataclass
class SquadAthlete:
    athlete_id: str  # runlift's id (a001, ...)
    strava_id: int
    season: list[dict[str, Any]]
    refresh_token: str = ""


def squad_athlete_id(k: int) -> str:
    return f"a{k + 1:03d}"


def squad_athletes(n: int, end: dt.date, weeks: int = 4) -> list[SquadAthlete]:
    """The squad's ``n`` athletes with their seasons (refresh tokens: the emulator's to give,
    :func:`runlift.standins.strava_emulator.squad_emulator`)."""
    if n < 1:
        raise ValueError("a squad has at least one athlete")
    return [SquadAthlete(squad_athlete_id(k), FIRST_STRAVA_ID + k, squad_season(k, end, weeks)) for k in range(n)]


def squad_season(k: int, end: dt.date, weeks: int = 4) -> list[dict[str, Any]]:
    """Athlete ``k``'s season: seeded per athlete, activity ids unique across the squad."""
    season = synthetic_season(end, weeks=weeks, seed=7 + k, athlete_id=FIRST_STRAVA_ID + k,
                              gym_from_week=min(2, weeks))
    for activity in season:
        activity["id"] = int(activity["id"]) + k * ID_STRIDE
    return season


def _toml_value(value: object) -> str:
    import json

    return json.dumps(value)  # JSON strings, numbers, booleans and arrays are TOML


def write_squad(folder: Path, athletes: list[SquadAthlete], *, base_url: str, client_id: str = "12345",
                client_secret: str | None = "emulator-secret", warehouse: str = "w.duckdb", fit: bool = True,
                strava: Mapping[str, object] | None = None, warehouse_settings: Mapping[str, object] | None = None,
                timezone: str = "America/Denver") -> Path:
    """Write ``folder/runlift.toml`` for the squad, each athlete's token file (``tokens/<id>.json``,
    mode 0600, holding its refresh token) and, with ``fit``, its FIT inbox (``inbox/<id>/``: the
    watch's files of its season, as :func:`runlift.standins.fit_writer.season_fit_files` writes them).

    ``strava`` adds settings of ``[strava]`` (retries, rate_window_s, ...); ``warehouse_settings``
    of ``[warehouse]`` (e.g. ``lake`` and ``data_path`` where that mode exists). ``client_secret``
    None: not written (the worker's STRAVA_CLIENT_SECRET gives it). Returns the settings file."""
    from runlift.connectors.strava.tokens import Tokens, TokenStore

    folder.mkdir(parents=True, exist_ok=True)
    lines = ["# A synthetic squad (runlift.standins.squad): every athlete's Strava tokens and FIT inbox.", "",
             "[warehouse]", f"path = {_toml_value(warehouse)}"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in (warehouse_settings or {}).items()]
    an_hour_ago = time.time() - 3600  # as a night finds an inbox: files written a while ago
    for a in athletes:
        token_file = folder / "tokens" / f"{a.athlete_id}.json"
        TokenStore(token_file).save(Tokens(access_token="", expires_at=0, refresh_token=a.refresh_token))
        lines += ["", f"[athletes.{a.athlete_id}]", f"timezone = {_toml_value(timezone)}",
                  f"strava_token_file = {_toml_value(str(token_file.relative_to(folder)))}"]
        if fit:
            from runlift.standins.fit_writer import season_fit_files

            inbox = folder / "inbox" / a.athlete_id
            inbox.mkdir(parents=True, exist_ok=True)
            for name, data in season_fit_files(a.season, serial_number=3_900_000_000 + a.strava_id):
                (inbox / name).write_bytes(data)
                os.utime(inbox / name, (an_hour_ago, an_hour_ago))
            lines.append(f"fit_inbox = {_toml_value([str(inbox.relative_to(folder))])}")
    strava_values: dict[str, object] = {"client_id": client_id, "base_url": base_url}
    if client_secret is not None:
        strava_values["client_secret"] = client_secret
    strava_values.update(strava or {})
    lines += ["", "[strava]"] + [f"{k} = {_toml_value(v)}" for k, v in strava_values.items()]
    cfg = folder / "runlift.toml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cfg
