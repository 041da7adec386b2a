"""Assignment rules: which hard filters apply and how factors are weighed, by scope.

A rule applies to a ticket when every scope field it sets (site, customer, priority, kind)
equals the ticket's. Among the rules that apply, the most specific wins, compared field by
field in this order: a rule that sets `site_id` beats any rule that does not; then one that
sets `customer_id`; then `priority`; then `kind`. So a site rule beats a customer rule, a
customer rule beats a priority+kind rule, and priority+kind beats priority alone beats kind
alone beats the default. Two rules with the same scope tie; the lower `id` wins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from tickets.assignment.models import Priority, TicketDemand, TicketKind

FACTOR_NAMES: Final = (
    "travel",
    "workload",
    "skill_match",
    "responsible",
    "site_history",
    "customer_preferred",
    "idle",
    "shift_left",
    "urgent_en_route",
    "fairness",
    "first_time_fix",
)
WEIGHTS_TOTAL_PCT: Final = 100.0
_WEIGHTS_TOLERANCE_PCT: Final = 1e-6

DEFAULT_WEIGHTS_PCT: Final[Mapping[str, float]] = MappingProxyType(
    {
        "travel": 25.0,
        "workload": 12.0,
        "skill_match": 10.0,
        "responsible": 10.0,
        "site_history": 6.0,
        "customer_preferred": 6.0,
        "idle": 4.0,
        "shift_left": 8.0,
        "urgent_en_route": 5.0,
        "fairness": 6.0,
        "first_time_fix": 8.0,
    }
)
# Critical work: arrive fast with someone free now; history and fairness matter less.
CRITICAL_WEIGHTS_PCT: Final[Mapping[str, float]] = MappingProxyType(
    {
        "travel": 35.0,
        "workload": 8.0,
        "skill_match": 8.0,
        "responsible": 6.0,
        "site_history": 3.0,
        "customer_preferred": 3.0,
        "idle": 15.0,
        "shift_left": 8.0,
        "urgent_en_route": 8.0,
        "fairness": 1.0,
        "first_time_fix": 5.0,
    }
)


class InvalidRuleError(ValueError):
    """A rule's weights or settings cannot be used."""


@dataclass(frozen=True, slots=True)
class AssignmentRule:
    """Hard-filter settings and factor weights for the tickets in its scope (None = any)."""

    id: str
    kind: TicketKind | None = None
    priority: Priority | None = None
    customer_id: str | None = None
    site_id: str | None = None
    max_travel_min: float | None = 120.0
    require_area: bool = True
    require_shift: bool = True
    position_stale_after_min: float = 15.0
    weights_pct: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS_PCT)

    def __post_init__(self) -> None:
        validate_weights(self.weights_pct)
        if self.max_travel_min is not None and self.max_travel_min <= 0:
            raise InvalidRuleError(f"rule {self.id}: max_travel_min must be positive")
        if self.position_stale_after_min < 0:
            raise InvalidRuleError(f"rule {self.id}: position_stale_after_min is negative")
        full = {name: float(self.weights_pct.get(name, 0.0)) for name in FACTOR_NAMES}
        object.__setattr__(self, "weights_pct", MappingProxyType(full))

    def applies_to(self, ticket: TicketDemand) -> bool:
        """Whether every scope field this rule sets matches the ticket."""
        scope = (
            (self.site_id, ticket.site_id),
            (self.customer_id, ticket.customer_id),
            (self.priority, ticket.priority),
            (self.kind, ticket.kind),
        )
        return all(mine is None or mine == theirs for mine, theirs in scope)

    @property
    def specificity(self) -> tuple[bool, bool, bool, bool]:
        """Sort key: greater is more specific (site, customer, priority, kind)."""
        return (
            self.site_id is not None,
            self.customer_id is not None,
            self.priority is not None,
            self.kind is not None,
        )


def validate_weights(weights_pct: Mapping[str, float]) -> None:
    """Refuse unknown factors, negative or non-finite weights, and totals other than 100."""
    unknown = sorted(set(weights_pct) - set(FACTOR_NAMES))
    if unknown:
        raise InvalidRuleError(f"unknown factors: {', '.join(unknown)}")
    for name, weight in weights_pct.items():
        if not math.isfinite(weight) or weight < 0:
            raise InvalidRuleError(f"weight of {name} must be a non-negative number")
    total = math.fsum(weights_pct.values())
    if abs(total - WEIGHTS_TOTAL_PCT) > _WEIGHTS_TOLERANCE_PCT:
        raise InvalidRuleError(f"weights must sum to 100 %, got {total:g} %")


DEFAULT_RULE: Final = AssignmentRule(id="default")
CRITICAL_RULE: Final = AssignmentRule(
    id="default-critical",
    priority="critical",
    max_travel_min=90.0,
    weights_pct=CRITICAL_WEIGHTS_PCT,
)
DEFAULT_RULES: Final = (DEFAULT_RULE, CRITICAL_RULE)


def select_rule(
    rules: Sequence[AssignmentRule], ticket: TicketDemand, *, default: AssignmentRule = DEFAULT_RULE
) -> AssignmentRule:
    """The most specific rule that applies to the ticket, or `default` when none does."""
    applicable = [rule for rule in rules if rule.applies_to(ticket)]
    if not applicable:
        return default
    # Most specific first; on equal scope the lower id wins.
    return min(applicable, key=lambda rule: (tuple(not s for s in rule.specificity), rule.id))
