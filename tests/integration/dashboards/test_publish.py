"""`toir dashboards publish` against a local fake of Grafana's HTTP API (a real Grafana cannot
be installed on this machine; see fake_grafana), and `toir dashboards build`."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dashboards.catalog import build_all
from dashboards.publish import Outcome, PublishError, connect, publish
from tests.integration.dashboards.fake_grafana import (
    TOKEN,
    VIEWER_TOKEN,
    GrafanaState,
    fake_grafana,
)
from toir import dashboard_commands  # noqa: F401  # registers the commands under test
from toir.cli import app

UIDS = [d["uid"] for d in build_all()]


@pytest.fixture
def grafana() -> Iterator[tuple[str, GrafanaState]]:
    with fake_grafana() as running:
        yield running


def publish_to(url: str, token: str = TOKEN, message: str = "test") -> dict[str, Outcome]:
    result = publish(connect(url, token), build_all(), url=url, message=message)
    return result.outcomes


def test_the_first_publish_creates_the_folder_and_every_dashboard_in_it(
    grafana: tuple[str, GrafanaState],
) -> None:
    url, state = grafana
    result = publish(connect(url, TOKEN), build_all(), url=url, message="release 1")

    assert result.folder_created
    assert state.folders["toir"]["title"] == "toir"
    assert result.outcomes == dict.fromkeys(UIDS, Outcome.CREATED)
    assert {uid: s["meta"]["folderUid"] for uid, s in state.dashboards.items()} == dict.fromkeys(
        UIDS, "toir"
    )
    assert state.messages == [(uid, "release 1") for uid in UIDS]


def test_publishing_again_changes_nothing(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    publish_to(url)
    saves, calls = len(state.messages), len(state.calls)

    again = publish(connect(url, TOKEN), build_all(), url=url, message="again")

    assert not again.folder_created
    assert again.outcomes == dict.fromkeys(UIDS, Outcome.UNCHANGED)
    assert len(state.messages) == saves
    assert {s["dashboard"]["version"] for s in state.dashboards.values()} == {1}
    assert [c for c in state.calls[calls:] if c.startswith("POST")] == []


def test_a_dashboard_changed_in_grafana_is_put_back_with_a_new_version(
    grafana: tuple[str, GrafanaState],
) -> None:
    url, state = grafana
    publish_to(url)
    state.dashboards["toir-platform"]["dashboard"]["title"] = "edited by hand"

    outcomes = publish_to(url, message="restore")

    assert outcomes["toir-platform"] is Outcome.UPDATED
    assert [o for uid, o in outcomes.items() if uid != "toir-platform"] == [Outcome.UNCHANGED] * 4
    stored = state.dashboards["toir-platform"]["dashboard"]
    assert (stored["title"], stored["version"]) == ("Platform", 2)
    assert state.messages[-1] == ("toir-platform", "restore")


def test_an_existing_folder_is_reused(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    state.folders["toir"] = {"id": 7, "uid": "toir", "title": "toir"}

    result = publish(connect(url, TOKEN), build_all(), url=url, message="m")

    assert not result.folder_created
    assert "POST /api/folders" not in state.calls


def test_a_bad_token_is_one_clear_error(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    with pytest.raises(PublishError) as error:
        publish_to(url, token="wrong")

    assert str(error.value) == (
        f"Grafana at {url} refused the credentials (401): check GRAFANA_TOKEN"
    )
    assert state.dashboards == {}


def test_a_token_that_may_not_save_is_one_clear_error(grafana: tuple[str, GrafanaState]) -> None:
    url, _ = grafana
    with pytest.raises(PublishError) as error:
        publish_to(url, token=VIEWER_TOKEN)

    assert str(error.value) == (
        f"Grafana at {url} denied access (403): the token needs the Editor role"
    )


def test_an_unreachable_grafana_is_one_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PublishError) as error:
        publish(connect(url, TOKEN, timeout_s=2), build_all(), url=url, message="m")

    assert str(error.value) == f"cannot reach Grafana at {url}: connection refused"


def test_the_command_publishes_with_url_and_token_from_the_environment(
    grafana: tuple[str, GrafanaState],
) -> None:
    url, _ = grafana
    env = {"GRAFANA_URL": url, "GRAFANA_TOKEN": TOKEN}
    first = CliRunner().invoke(app, ["dashboards", "publish"], env=env)
    second = CliRunner().invoke(app, ["dashboards", "publish", "--message", "x"], env=env)

    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == ["created folder toir", *(f"created {u}" for u in UIDS)]
    assert second.stdout.splitlines() == [f"unchanged {u}" for u in UIDS]


@pytest.mark.parametrize(
    ("token", "reachable", "expected"),
    [
        ("wrong", True, "refused the credentials (401): check GRAFANA_TOKEN"),
        (TOKEN, False, "cannot reach Grafana at"),
    ],
)
def test_the_command_fails_with_one_line(
    grafana: tuple[str, GrafanaState], token: str, reachable: bool, expected: str
) -> None:
    url = grafana[0] if reachable else f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        app, ["dashboards", "publish", "--url", url, "--token", token, "--timeout-s", "2"]
    )

    assert result.exit_code != 0
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("toir: ") and expected in result.stderr


def test_a_url_without_a_scheme_is_refused() -> None:
    result = CliRunner().invoke(app, ["dashboards", "publish", "--url", "grafana:3000"])

    assert result.exit_code != 0
    assert "must start with http:// or https://" in result.stderr


def test_the_command_needs_a_url() -> None:
    result = CliRunner().invoke(app, ["dashboards", "publish"], env={"GRAFANA_URL": ""})

    assert result.exit_code != 0
    assert result.stderr == "toir: GRAFANA_URL (or --url) must be set\n"


def test_build_writes_the_provisioning_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["dashboards", "build", "--out", str(tmp_path), "--db-host", "db:5432"]
    )

    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2 + len(UIDS)
    assert "db:5432" in (tmp_path / "provisioning/datasources/toir.yaml").read_text()
    assert sorted(p.stem for p in (tmp_path / "dashboards/toir").iterdir()) == sorted(UIDS)


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
