"""A runlift settings file (``runlift.toml``) for a stand-in world: one athlete, a warehouse path,
and a ``[strava]`` section pointing at an emulator or a hostile server. Used by the demo, the tests
and the benches instead of each writing TOML by hand."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path


def _line(key: str, value: object) -> str:
    # JSON's strings, numbers, booleans and arrays are valid TOML (values here are never NaN or inf)
    return f"{key} = {json.dumps(value)}\n"


def _table(name: str, values: Mapping[str, object]) -> str:
    return f"\n[{name}]\n" + "".join(_line(k, v) for k, v in values.items())


def write_settings(folder: Path, *, athlete: str = "me", timezone: str = "UTC", warehouse: str = "w.duckdb",
                   token_file: str | None = None, athlete_settings: Mapping[str, object] | None = None,
                   strava: Mapping[str, object] | None = None,
                   tables: Mapping[str, Mapping[str, object]] | None = None,
                   top: Mapping[str, object] | None = None, comment: str = "") -> Path:
    """Write ``folder/runlift.toml`` (``folder`` is created if missing) and return its path.

    ``[warehouse] path`` is ``warehouse``; ``[athletes.<athlete>]`` has ``timezone``, the
    ``athlete_settings`` (body_mass_kg, fit_inbox, ...) and ``strava_token_file`` (default
    ``tokens/<athlete>.json``); ``[strava]`` holds ``strava`` (client_id, client_secret, base_url,
    retries, ...), left out when None; ``tables`` adds other tables (e.g. ``{"notify": {...}}``),
    ``top`` top-level keys (e.g. ``units``), ``comment`` comment lines at the head of the file.
    Values are strings, numbers, booleans or lists of them.
    """
    head = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    text = head + "".join(_line(k, v) for k, v in (top or {}).items())
    text += _table("warehouse", {"path": warehouse})
    text += _table(f"athletes.{athlete}", {"timezone": timezone, **(athlete_settings or {}),
                                           "strava_token_file": token_file or f"tokens/{athlete}.json"})
    if strava is not None:
        text += _table("strava", strava)
    for name, values in (tables or {}).items():
        text += _table(name, values)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "runlift.toml"
    cfg.write_text(text.lstrip("\n"), encoding="utf-8")
    return cfg
