import datetime as dt
from pathlib import Path

import pytest

from runlift.flows.settings import EXAMPLE_TOML, SettingsError, load_settings

from helpers import runlift


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_live_under_runlift_home_not_cwd(tmp_path):
    s = load_settings(env={"RUNLIFT_HOME": str(tmp_path / "h")})
    assert s.db_path == (tmp_path / "h" / "runlift.duckdb").resolve()
    assert s.athlete_id == "me" and s.units == "metric"
    assert s.sources["warehouse.path"] == "default"


def test_precedence_option_over_env_over_file(tmp_path):
    cfg = write(tmp_path / "r.toml", 'units = "imperial"\n[warehouse]\npath = "file.duckdb"\n')
    env = {"RUNLIFT_HOME": str(tmp_path)}
    s = load_settings(cfg, env=env)
    assert s.db_path == (tmp_path / "file.duckdb").resolve()  # relative to the settings file
    assert s.units == "imperial"
    s = load_settings(cfg, env={**env, "RUNLIFT_DB": str(tmp_path / "env.duckdb"), "RUNLIFT_UNITS": "metric"})
    assert s.db_path.name == "env.duckdb" and s.units == "metric"
    s = load_settings(cfg, db=tmp_path / "opt.duckdb", units="imperial",
                      env={**env, "RUNLIFT_DB": str(tmp_path / "env.duckdb")})
    assert s.db_path.name == "opt.duckdb" and s.units == "imperial"


def test_config_found_from_env_and_cwd(tmp_path, monkeypatch):
    write(tmp_path / "runlift.toml", '[athletes.ana]\ntimezone = "Europe/Madrid"\n')
    monkeypatch.chdir(tmp_path)
    s = load_settings(env={})
    assert s.athlete_id == "ana" and s.athlete.timezone == "Europe/Madrid"
    other = write(tmp_path / "other.toml", '[athletes.bo]\ntimezone = "America/Denver"\n')
    assert load_settings(env={"RUNLIFT_CONFIG": str(other)}).athlete_id == "bo"


def test_athletes_and_dated_body_mass(tmp_path):
    cfg = write(tmp_path / "r.toml", """
[athletes.ana]
timezone = "America/Denver"
body_mass_kg = [{ since = 2025-01-01, kg = 74.0 }, { since = 2026-03-01, kg = 71.5 }]
sex = "female"
max_hr_bpm = 188
fit_inbox = ["inbox"]
[athletes.bo]
body_mass_kg = 82
""")
    with pytest.raises(SettingsError, match="athlete 'me' is not configured"):
        load_settings(cfg, athlete="me", env={})
    s = load_settings(cfg, athlete="ana", env={})
    a = s.athlete
    assert a.body_mass_on(dt.date(2024, 6, 1)) == 74.0  # before the first date: earliest value
    assert a.body_mass_on(dt.date(2025, 6, 1)) == 74.0
    assert a.body_mass_on(dt.date(2026, 3, 1)) == 71.5
    assert a.max_hr_bpm == 188 and a.sex == "female"
    assert a.fit_inbox == (tmp_path / "inbox",)
    assert load_settings(cfg, athlete="bo", env={}).athlete.body_mass_on(dt.date.today()) == 82.0
    # two athletes and no choice: the default is "me", which is not configured
    with pytest.raises(SettingsError, match="not configured"):
        load_settings(cfg, env={})


@pytest.mark.parametrize("text, name", [
    ('units = "furlongs"', "`units`"),
    ('[athletes.me]\ntimezone = "Mars/Olympus"', "`athletes.me.timezone`"),
    ('[athletes.me]\nbody_mass_kg = "heavy"', "`athletes.me.body_mass_kg`"),
    ('[athletes.me]\nbody_mass_kg = 5', "`athletes.me.body_mass_kg`"),
    ('[athletes.me]\nmax_hr_bpm = 400', "`athletes.me.max_hr_bpm`"),
    ('[athletes.me]\nsex = "x"', "`athletes.me.sex`"),
    ('[athletes.me]\nbodymass_kg = 70', "did you mean `athletes.me.body_mass_kg`"),
    ('[warehouse]\npath = 3', "`warehouse.path`"),
    ('[hevy]\nretries = "many"', "`hevy.retries`"),
    ('[hevy]\nmin_interval_s = -1', "`hevy.min_interval_s`"),
    ('[hevy]\nbody_measurements = "yes"', "`hevy.body_measurements`"),
    ('[hevy]\nbase_url = "http://example.com"', "hevy.base_url"),
    ('[garmin]\npage_size = 0', "`garmin.page_size`"),
    ('[gear]\nshoe_replacement_km = [800, 500]', "`gear.shoe_replacement_km`"),
])
def test_invalid_settings_are_reported_by_name(tmp_path, text, name):
    cfg = write(tmp_path / "r.toml", text)
    with pytest.raises(SettingsError) as err:
        load_settings(cfg, env={})
    assert name in str(err.value)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path / "bad.toml", "units = "), env={})


def test_example_file_is_valid_and_documents_every_setting(tmp_path):
    cfg = write(tmp_path / "runlift.toml", EXAMPLE_TOML)
    s = load_settings(cfg, env={})
    assert s.athlete.timezone == "America/Denver"
    for key in ("units", "[warehouse]", "path", "timezone", "body_mass_kg", "sex", "max_hr_bpm",
                "resting_hr_bpm", "fit_inbox"):
        assert key in EXAMPLE_TOML


@pytest.mark.parametrize("text, message", [
    # the four typos of issue 13: each exited 0 with a default before
    ('unit = "imperial"', "unknown setting `unit` in {cfg}; did you mean `units`?"),
    ('[athlete.me]\nbody_mass_kg = 80', "unknown setting `athlete` in {cfg}; did you mean `athletes`?"),
    ('[warehouse]\npaht = "x.duckdb"', "unknown setting `warehouse.paht` in {cfg}; did you mean `warehouse.path`?"),
    ('[athletes.me]\nbody_mas_kg = 80',
     "unknown setting `athletes.me.body_mas_kg` in {cfg}; did you mean `athletes.me.body_mass_kg`?"),
    # every table, nested ones too
    ('[strava]\nlookback = 3', "did you mean `strava.lookback_days`?"),
    ('[publish]\ninclude_locations = true', "did you mean `publish.include_location`?"),
    ('[flags]\nacrw = true', "did you mean `flags.acwr`?"),
    ('[notify]\nwebhook = "https://x"', "did you mean `notify.webhook_url`?"),
    ('[athletes.bo]\nraces = [{ date = 2026-04-12, nmae = "Half" }]', "did you mean `athletes.bo.races[0].name`?"),
    ('[athletes.bo]\nbody_mass_kg = [{ since = 2026-01-01, kilo = 70 }]',
     "unknown setting `athletes.bo.body_mass_kg[0].kilo` in {cfg}; known in [athletes.bo.body_mass_kg[0]]: since, kg"),
    # nothing close: the known names of that table
    ('colour = "red"', "known at the top: units, warehouse, athletes, flags, publish, notify, strava"),
])
def test_unknown_setting_names_are_errors_with_a_suggestion(tmp_path, text, message):
    cfg = write(tmp_path / "r.toml", text)
    with pytest.raises(SettingsError) as err:
        load_settings(cfg, env={})
    assert message.format(cfg=cfg) in str(err.value)


def test_unknown_setting_stops_the_command_with_one_line(tmp_path):
    cfg = write(tmp_path / "r.toml", '[athletes.me]\nbody_mas_kg = 80\n')
    proc = runlift("status", "--config", str(cfg), env={"HOME": str(tmp_path)}, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        f"runlift: error: unknown setting `athletes.me.body_mas_kg` in {cfg}; did you mean `athletes.me.body_mass_kg`?"]


def test_an_athlete_given_but_not_configured_is_an_error(tmp_path):
    """Issue 13: `--athlete bob` without settings went on with a default athlete in silence."""
    with pytest.raises(SettingsError, match=r"athlete 'bob' \(from --athlete\) is not configured: add "
                                            r"\[athletes.bob\] with its timezone to a settings file"):
        load_settings(None, athlete="bob", env={})
    with pytest.raises(SettingsError, match="from RUNLIFT_ATHLETE"):
        load_settings(None, env={"RUNLIFT_ATHLETE": "bob"})
    cfg = write(tmp_path / "r.toml", 'units = "metric"\n')
    with pytest.raises(SettingsError, match=f"with its timezone to {cfg}"):
        load_settings(cfg, athlete="bob", env={})
    # the zero-configuration athlete still works without settings, named or not
    assert load_settings(None, env={}).athlete_id == "me"
    assert load_settings(None, athlete="me", env={}).athlete_id == "me"
