"""The systemd unit in deploy/: well-formed, restarting the bot when it exits on purpose,
and the same paths and commands as the README's Deployment section."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "dutybot.service"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text("utf-8"))
    return parser


def test_the_unit_restarts_the_bot_as_its_own_user_with_the_env_file() -> None:
    unit = _unit()
    assert unit.sections() == ["Unit", "Service", "Install"]
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert float(service["RestartSec"]) > 0
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"  # never gives up restarting
    assert service["User"] not in ("", "root")
    home = Path(service["WorkingDirectory"])
    assert home.is_absolute()
    assert service["EnvironmentFile"] == str(home / ".env")
    assert service["ExecStart"] == f"{home / '.venv' / 'bin' / 'dutybot'} run"
    assert service["ReadWritePaths"] == str(home)  # the SQLite database lives there
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_readme_shows_how_to_install_enable_and_read_it() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    service = _unit()["Service"]
    home = service["WorkingDirectory"]
    for needed in (
        "deploy/dutybot.service",
        f"useradd --system --home-dir {home}",
        service["User"],
        "systemctl enable --now dutybot",
        "journalctl -u dutybot",
        f"{home}/.env",
        "78",  # the exit status of a rejected token
    ):
        assert needed in readme, needed


def test_systemd_finds_nothing_wrong_with_it(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    copy = tmp_path / "dutybot.service"
    copy.write_text(UNIT.read_text("utf-8"))
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        # The program is not installed on the machine running the tests.
        if line.strip() and "is not executable" not in line
    ]
    assert complaints == []
