from aiokafka import TopicPartition

from stream.platform.lag import LagSample, lag_samples

P0 = TopicPartition("toir.telemetry.readings", 0)
P1 = TopicPartition("toir.telemetry.readings", 1)
P2 = TopicPartition("toir.telemetry.readings", 2)


def test_lag_is_end_minus_committed_per_partition() -> None:
    samples = lag_samples("g", {P0: 100, P1: 50}, {P0: 0, P1: 0}, {P0: 70, P1: 50})
    assert samples == [
        LagSample("g", P0.topic, 0, 30),
        LagSample("g", P1.topic, 1, 0),
    ]


def test_a_partition_never_committed_lags_by_all_it_holds() -> None:
    samples = lag_samples("g", {P0: 100}, {P0: 40}, {P0: None})
    assert samples == [LagSample("g", P0.topic, 0, 60)]


def test_a_commit_past_the_end_read_earlier_is_no_lag_not_a_negative_one() -> None:
    assert lag_samples("g", {P0: 100}, {}, {P0: 104}) == [LagSample("g", P0.topic, 0, 0)]


def test_partitions_without_a_known_end_are_left_out() -> None:
    assert lag_samples("g", {P0: 5}, {}, {P0: 5, P2: 1}) == [LagSample("g", P0.topic, 0, 0)]
