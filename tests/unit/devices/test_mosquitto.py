"""Mosquitto password hashes and ACL grants (devices.credentials.mosquitto)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from devices.credentials.mosquitto import (
    Account,
    Listener,
    acl_file,
    broker_conf,
    grants,
    hash_password,
    owntracks_topics,
    password_file,
    verify_password,
)

MOSQUITTO_7 = re.compile(r"^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$")


def account(role: str, subject: str, username: str | None = None) -> Account:
    return Account(username or subject, role, subject, hash_password("pw"))  # type: ignore[arg-type]


def test_a_hash_has_mosquittos_pbkdf2_sha512_form() -> None:
    encoded = hash_password("s3cret")
    assert MOSQUITTO_7.match(encoded)
    _, _, _, salt, key = encoded.split("$")
    assert (len(base64.b64decode(salt)), len(base64.b64decode(key))) == (12, 64)


def test_hashes_are_salted_and_verify_only_the_right_password() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second
    assert verify_password("s3cret", first) and verify_password("s3cret", second)
    assert not verify_password("s3cret!", first)
    assert not verify_password("s3cret", "$6$not$ours")


def test_a_device_may_only_publish_under_its_own_topics() -> None:
    assert grants(account("device", "pump-1")) == [("write", "toir/v1/devices/pump-1/#")]


def test_an_owntracks_device_may_publish_on_each_topic_ingest_maps_to_its_id() -> None:
    assert grants(account("device", "jane.phone")) == [
        ("write", "toir/v1/devices/jane.phone/#"),
        ("write", "owntracks/jane/phone"),
    ]
    assert owntracks_topics("a.b.c") == ["owntracks/a/b.c", "owntracks/a.b/c"]
    assert owntracks_topics("no-dots") == []


def test_an_engineer_may_only_read_their_own_inbox() -> None:
    assert grants(account("engineer", "e7", "engineer-e7")) == [
        ("read", "toir/v1/engineers/e7/tickets")
    ]


def test_services_get_their_roles_rights_and_unknown_ones_nothing() -> None:
    assert ("read", "toir/v1/devices/+/telemetry") in grants(account("service", "ingest"))
    assert grants(account("service", "notifier")) == [("write", "toir/v1/engineers/+/tickets")]
    assert grants(account("service", "backdoor")) == []


def test_the_files_list_every_account_with_its_grants() -> None:
    accounts = [account("device", "pump-1"), account("service", "ingest", "toir-ingest")]
    assert password_file(accounts).splitlines()[0].startswith("pump-1:$7$101$")
    acl = acl_file(accounts)
    assert "user pump-1\ntopic write toir/v1/devices/pump-1/#\n" in acl
    assert "user toir-ingest\ntopic read toir/v1/devices/+/telemetry" in acl


def test_the_configuration_refuses_anonymous_clients() -> None:
    conf = broker_conf(Path("/etc/toir"), Listener(1884, "127.0.0.1", run_as="root"))
    assert "allow_anonymous false" in conf.splitlines()
    assert "password_file /etc/toir/passwd" in conf
    assert "listener 1884 127.0.0.1" in conf
    assert conf.rstrip().endswith("user root")
