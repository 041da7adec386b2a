"""A unit's health: a 0-100 score from anomalies, overdue maintenance and age, and its
failure risk where a promoted risk model exists for its equipment model."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from typing import Any, Final

import numpy as np
import psycopg

from kernel.clock import to_epoch_us
from kernel.errors import Forbidden, NotFound
from predictive.equipment_health import repository
from predictive.equipment_health.models import AnomalyRead, HealthRead, MaintenanceStandingRead
from predictive.health import AnomalyRecord, failure_risk, health_score
from predictive.models.features import unit_features
from predictive.plans import service as plans
from predictive.plans.standing import UnitStanding
from predictive.settings import HealthSettings
from predictive.store import ModelStore, ModelStoreError
from predictive.training.artefacts import RiskModel, load_risk
from tickets.users.models import User

log = logging.getLogger(__name__)

DAYS_PER_YEAR: Final = 365.25
US_PER_DAY: Final = 86_400_000_000
SHOWN_ANOMALIES: Final = 20
# Risk is judged on the newest window only if its readings are this recent.
RISK_READINGS_WITHIN: Final = timedelta(days=2)


async def get_health(
    *,
    conn: psycopg.AsyncConnection,
    equipment_id: str,
    user: User,
    now: datetime,
    health: HealthSettings,
) -> HealthRead:
    """The unit's health now; planners, admins and the unit's responsible engineer only."""
    unit = await repository.equipment(conn, equipment_id)
    if unit is None:
        raise NotFound(f"equipment {equipment_id!r} not found")
    if not user.sees_everything() and (
        user.engineer_id is None or user.engineer_id != unit["engineer_id"]
    ):
        raise Forbidden("only planners, admins and the unit's responsible engineer see its health")
    since = now - timedelta(days=health.health_anomaly_days)
    anomalies = await repository.anomalies(conn, equipment_id, since=since)
    standings = await plans.unit_standings(
        conn=conn,
        subject_kind="equipment",
        subject_id=equipment_id,
        now=now,
        usage_days=health.plans_usage_days,
    )
    overdue = max((s.status.overdue_fraction(now) for s in standings), default=0.0)
    age_years = _age_years(unit["installed_on"], now)
    age_fraction = 0.0 if age_years is None else age_years / health.health_service_life_years
    risk = await _load_risk(ModelStore(health.models_dir), unit["model"])
    return HealthRead(
        equipment_id=equipment_id,
        score=health_score(
            anomalies=[_record(a) for a in anomalies],
            now_us=to_epoch_us(now),
            overdue_fraction=overdue,
            age_fraction=age_fraction,
        ),
        computed_at=now,
        open_anomalies=sum(a["cleared_at"] is None for a in anomalies),
        anomalies=[AnomalyRead(**a) for a in anomalies[:SHOWN_ANOMALIES]],
        maintenance=[_standing(s, now) for s in standings],
        overdue_fraction=round(overdue, 3),
        age_years=None if age_years is None else round(age_years, 2),
        age_fraction=round(min(1.0, age_fraction), 3),
        failure_risk=await _risk(conn, risk, equipment_id, now),
        failure_risk_horizon_days=None if risk is None else risk.model.horizon_us / US_PER_DAY,
        failure_risk_model_version=None if risk is None else risk.version,
    )


def _record(anomaly: dict[str, Any]) -> AnomalyRecord:
    cleared = anomaly["cleared_at"]
    return AnomalyRecord(
        severity=anomaly["severity"],
        opened_us=to_epoch_us(anomaly["opened_at"]),
        cleared_us=None if cleared is None else to_epoch_us(cleared),
    )


def _standing(standing: UnitStanding, now: datetime) -> MaintenanceStandingRead:
    first = standing.status.first
    return MaintenanceStandingRead(
        plan_id=standing.plan.id,
        plan_name=standing.plan.name,
        basis=first.basis,
        due_at=first.due_at,
        summary=first.summary(now),
        overdue_fraction=round(standing.status.overdue_fraction(now), 3),
    )


def _age_years(installed_on: date | None, now: datetime) -> float | None:
    if installed_on is None:
        return None
    return max(0.0, (now.date() - installed_on).days / DAYS_PER_YEAR)


async def _load_risk(store: ModelStore, equipment_model: str | None) -> RiskModel | None:
    if equipment_model is None:
        return None
    try:
        return await asyncio.to_thread(load_risk, store, equipment_model)
    except (ModelStoreError, KeyError, ValueError) as exc:
        log.warning("no failure risk for %s: %s", equipment_model, exc)
        return None


async def _risk(
    conn: psycopg.AsyncConnection, risk: RiskModel | None, equipment_id: str, now: datetime
) -> float | None:
    """The failure probability of the unit's newest window; None without model or data."""
    if risk is None:
        return None
    spec = risk.spec
    readings = await repository.latest_readings(
        conn, equipment_id, since=now - RISK_READINGS_WITHIN, count=spec.window
    )
    if len(readings.ts_us) < spec.window:
        return None
    column = {name: i for i, name in enumerate(readings.metric_names)}
    values = np.column_stack(
        [
            readings.values[:, column[m]] if m in column else np.full(spec.window, np.nan)
            for m in spec.metric_names
        ]
    )
    features, _ = unit_features(spec, readings.ts_us, values, readings.running)
    probabilities = failure_risk(risk.model, features[-1:])
    return None if probabilities is None else round(float(probabilities[0]), 4)
