"""The newest state of each device in a batch, against a plain reading-by-reading oracle."""

import random

from devices.records import Reading
from stream.state.latest import ReadingsLatest, latest_readings


def _oracle(rows: list[Reading]) -> list[ReadingsLatest]:
    """Reading by reading: a later time wins, the first of equal times stays."""
    found: dict[str, ReadingsLatest] = {}
    for r in rows:
        latest = found.setdefault(r.device_id, ReadingsLatest(r.device_id, r.ts_us))
        latest.last_us = max(latest.last_us, r.ts_us)
        if r.running is not None and (latest.running_us is None or r.ts_us > latest.running_us):
            latest.running, latest.running_us = r.running, r.ts_us
        for name, value in r.metrics.items():
            known = latest.metrics.get(name)
            if known is None or r.ts_us > known[1]:
                latest.metrics[name] = (value, r.ts_us)
    return [found[device] for device in sorted(found)]


def _batch(rng: random.Random) -> list[Reading]:
    rows = []
    for _ in range(rng.randint(1, 300)):
        names = rng.sample(["t", "p", "v", "rpm", "a"], rng.randint(0, 3))
        rows.append(
            Reading(
                f"eq-{rng.randint(0, 6)}",
                rng.randint(0, 40),  # few distinct times: ties are common
                None,
                rng.choice([None, True, False]),
                {name: rng.random() for name in names},
            )
        )
    return rows


def test_the_newest_value_of_every_metric_and_state_wins_whatever_the_order() -> None:
    rng = random.Random(11)
    for _ in range(300):
        rows = _batch(rng)
        assert latest_readings(rows) == _oracle(rows)


def test_a_metric_seen_only_in_an_older_reading_is_kept() -> None:
    rows = [
        Reading("eq-1", 5, None, True, {"t": 1.0, "p": 2.0}),
        Reading("eq-1", 9, None, None, {"t": 3.0}),
    ]
    [latest] = latest_readings(rows)
    assert (latest.last_us, latest.running, latest.running_us) == (9, True, 5)
    assert latest.metrics == {"t": (3.0, 9), "p": (2.0, 5)}


def test_devices_sending_the_same_metrics_every_time_match_the_oracle_too() -> None:
    # The usual batch: every reading names the same metrics and a running state, so the
    # newest reading alone says it all (ties included: the first of equal times wins).
    rng = random.Random(12)
    for _ in range(200):
        rows = [
            Reading(
                f"eq-{rng.randint(0, 4)}",
                rng.randint(0, 20),
                None,
                rng.choice([True, False]),
                {name: rng.random() for name in ("t", "p", "v")},
            )
            for _ in range(rng.randint(1, 200))
        ]
        # Now and then one older reading carries a metric the others lack.
        if rng.random() < 0.3:
            rows.append(Reading(rows[0].device_id, -1, None, None, {"rpm": 1.0}))
        assert latest_readings(rows) == _oracle(rows)
