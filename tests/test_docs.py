"""Documentation that cannot drift: the CLI reference, the README's commands, the example settings."""

from runlift.flows.cli import main as cli_main
from runlift.flows.clidoc import _walk, render
from runlift.flows.settings import EXAMPLE_TOML, StravaSettings

from conftest import ROOT


def test_cli_reference_is_current():
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/cli.md is stale: run `python -m runlift.flows.clidoc > docs/cli.md`"


def test_readme_names_every_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path, _ in _walk(cli_main, ["runlift"]):
        assert " ".join(path) in readme, f"README does not mention `{' '.join(path)}`"


def test_example_settings_document_every_setting():
    for name in StravaSettings.__dataclass_fields__:
        assert f"{name} =" in EXAMPLE_TOML, f"strava.{name} undocumented"
    for key in ("[publish]", "include_location", "[notify]", "webhook_url", "strava_token_file", "units",
                "[warehouse]"):
        assert key in EXAMPLE_TOML


def test_readme_set_up_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
