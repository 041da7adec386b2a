"""The assignment engine's pure core: rank engineers for tickets, assign one or a batch."""

from tickets.assignment.batch import BatchResult, assign_batch, assign_greedy
from tickets.assignment.engine import Assigned, Unassignable, assign_one, rank
from tickets.assignment.models import (
    Absence,
    EngineerProfile,
    EngineerStatus,
    Priority,
    TicketDemand,
    TicketKind,
    WeeklyShift,
)
from tickets.assignment.ranking import Candidate, Exclusion, Ranking
from tickets.assignment.rules import (
    CRITICAL_RULE,
    DEFAULT_RULE,
    DEFAULT_RULES,
    FACTOR_NAMES,
    AssignmentRule,
    InvalidRuleError,
    select_rule,
    validate_weights,
)
from tickets.assignment.table import EngineerTable
from tickets.assignment.travel import GreatCircleTravel, TravelEstimator

__all__ = [
    "CRITICAL_RULE",
    "DEFAULT_RULE",
    "DEFAULT_RULES",
    "FACTOR_NAMES",
    "Absence",
    "Assigned",
    "AssignmentRule",
    "BatchResult",
    "Candidate",
    "EngineerProfile",
    "EngineerStatus",
    "EngineerTable",
    "Exclusion",
    "GreatCircleTravel",
    "InvalidRuleError",
    "Priority",
    "Ranking",
    "TicketDemand",
    "TicketKind",
    "TravelEstimator",
    "Unassignable",
    "WeeklyShift",
    "assign_batch",
    "assign_greedy",
    "assign_one",
    "rank",
    "select_rule",
    "validate_weights",
]
