"""Rules: the most specific applicable rule wins, and weights are validated."""

from __future__ import annotations

import math

import pytest

from tests.unit.assignment.factories import ticket
from tickets.assignment import (
    CRITICAL_RULE,
    DEFAULT_RULE,
    DEFAULT_RULES,
    FACTOR_NAMES,
    AssignmentRule,
    InvalidRuleError,
    select_rule,
    validate_weights,
)

KIND = AssignmentRule(id="kind", kind="anomaly")
PRIORITY = AssignmentRule(id="priority", priority="high")
PRIORITY_AND_KIND = AssignmentRule(id="priority+kind", priority="high", kind="anomaly")
CUSTOMER = AssignmentRule(id="customer", customer_id="cust-1")
SITE = AssignmentRule(id="site", site_id="site-1")
ALL_SCOPES = [KIND, PRIORITY, PRIORITY_AND_KIND, CUSTOMER, SITE]


def test_site_rule_beats_every_other_scope() -> None:
    assert select_rule(ALL_SCOPES, ticket(priority="high")).id == "site"


def test_customer_rule_beats_priority_and_kind_rules() -> None:
    rules = [KIND, PRIORITY, PRIORITY_AND_KIND, CUSTOMER]
    assert select_rule(rules, ticket(priority="high")).id == "customer"


def test_priority_and_kind_rule_beats_priority_alone_beats_kind_alone() -> None:
    high_anomaly = ticket(priority="high")
    assert select_rule([KIND, PRIORITY, PRIORITY_AND_KIND], high_anomaly).id == "priority+kind"
    assert select_rule([KIND, PRIORITY], high_anomaly).id == "priority"


def test_kind_rule_beats_the_default() -> None:
    assert select_rule([KIND], ticket()) is KIND


def test_rule_for_another_scope_value_does_not_apply() -> None:
    other_site = AssignmentRule(id="other-site", site_id="site-2", customer_id="cust-1")
    assert select_rule([other_site, KIND], ticket()).id == "kind"


def test_no_applicable_rule_falls_back_to_the_default() -> None:
    assert select_rule([SITE], ticket(site_id="site-9", customer_id=None)) is DEFAULT_RULE


def test_rules_with_the_same_scope_tie_break_on_the_lower_id() -> None:
    rules = [AssignmentRule(id="b", site_id="site-1"), AssignmentRule(id="a", site_id="site-1")]
    assert select_rule(rules, ticket()).id == "a"


def test_default_rules_pick_the_critical_rule_for_critical_tickets() -> None:
    assert select_rule(DEFAULT_RULES, ticket(priority="critical")) is CRITICAL_RULE
    assert select_rule(DEFAULT_RULES, ticket(priority="high")) is DEFAULT_RULE


def test_critical_rule_weighs_idleness_and_travel_more_than_the_default() -> None:
    for factor in ("idle", "travel"):
        assert CRITICAL_RULE.weights_pct[factor] > DEFAULT_RULE.weights_pct[factor]


def test_weights_not_summing_to_100_are_refused() -> None:
    with pytest.raises(InvalidRuleError, match="sum to 100"):
        AssignmentRule(id="bad", weights_pct={"travel": 60.0, "workload": 30.0})


def test_negative_weight_is_refused() -> None:
    with pytest.raises(InvalidRuleError, match="non-negative"):
        validate_weights({"travel": 110.0, "workload": -10.0})


def test_non_finite_weight_is_refused() -> None:
    with pytest.raises(InvalidRuleError, match="non-negative"):
        validate_weights({"travel": math.nan, "workload": 100.0})


def test_unknown_factor_is_refused_by_name() -> None:
    with pytest.raises(InvalidRuleError, match="unknown factors: charm"):
        validate_weights({"travel": 50.0, "charm": 50.0})


def test_factors_left_out_weigh_zero() -> None:
    rule = AssignmentRule(id="travel-only", weights_pct={"travel": 100.0})
    assert set(rule.weights_pct) == set(FACTOR_NAMES)
    assert rule.weights_pct["workload"] == 0.0


def test_non_positive_max_travel_is_refused() -> None:
    with pytest.raises(InvalidRuleError, match="max_travel_min"):
        AssignmentRule(id="bad", max_travel_min=0.0)
