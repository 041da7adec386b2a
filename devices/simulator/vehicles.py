"""The physics of one simulated service vehicle: trips between sites, stops, GPS fixes."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from devices.records import Position
from devices.simulator.geography import Site, offset_m
from devices.simulator.routes import Waypoint, plan_route
from devices.simulator.vehicle_motion import Motion

US_PER_S = 1_000_000
STEP_US = US_PER_S
DWELL_MIN = (10.0, 40.0)
HOME_PROBABILITY = 0.3
START_DRIVING_PROBABILITY = 0.6
ODOMETER_INITIAL_KM = (5_000.0, 150_000.0)
ACCURACY_M = (3.0, 15.0)
# Parking spots spread over this share of a site's radius.
PARKING_SPREAD = 0.5
GPS_SPEED_NOISE_KMH = 0.3
GPS_HEADING_NOISE_DEG = 1.0


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One service vehicle as the asset registry knows it."""

    id: str
    plate: str
    home_site_id: str


@dataclass(frozen=True, slots=True)
class VehicleState:
    """The true (noise-free) state of a vehicle."""

    lat: float
    lon: float
    speed_kmh: float
    heading_deg: float
    odometer_km: float
    ignition: bool
    site_id: str | None


class VehicleSim:
    """One vehicle advanced in steps of at most a second; deterministic for a given seed."""

    def __init__(
        self, vehicle: Vehicle, *, sites: tuple[Site, ...], seed: int, start_us: int
    ) -> None:
        key = f"{seed}:{vehicle.id}"
        self.vehicle = vehicle
        self._trips = random.Random(f"{key}:trips")
        self._gps = random.Random(f"{key}:gps")
        self._sites = {site.id: site for site in sites}
        home = self._sites[vehicle.home_site_id]
        self._motion = Motion(
            *self._parking_spot(home),
            heading_deg=self._trips.uniform(0.0, 360.0),
            odometer_m=self._trips.uniform(*ODOMETER_INITIAL_KM) * 1000.0,
        )
        self._site_id: str | None = home.id
        self._target_id = home.id
        self._t_us = start_us
        dwell_s = 0.0
        if self._trips.random() >= START_DRIVING_PROBABILITY:
            dwell_s = self._trips.uniform(0.0, DWELL_MIN[1] * 60.0)
        self._hold_until_us = start_us + int(dwell_s * US_PER_S)

    @property
    def state(self) -> VehicleState:
        """Where the vehicle truly is and what it does, at the last sample."""
        motion = self._motion
        return VehicleState(
            lat=motion.lat,
            lon=motion.lon,
            speed_kmh=motion.speed_ms * 3.6,
            heading_deg=motion.heading_deg,
            odometer_km=motion.odometer_m / 1000.0,
            ignition=self._site_id is None,
            site_id=self._site_id,
        )

    def sample(self, t_us: int) -> Position:
        """Advance the vehicle to t_us and take a GPS fix."""
        self.advance_to(t_us)
        return self._fix(t_us)

    def advance_to(self, t_us: int) -> None:
        """Drive, wait at signals and park until t_us."""
        while self._t_us < t_us:
            if self._hold_until_us > self._t_us:
                self._t_us = min(t_us, self._hold_until_us)
                continue
            if self._site_id is not None:
                self._depart()
                continue
            step_us = min(STEP_US, t_us - self._t_us)
            self._t_us += step_us
            self._after_step(self._motion.step(step_us / US_PER_S), self._t_us)

    def _after_step(self, reached: Waypoint | None, now_us: int) -> None:
        if reached is None:
            return
        if self._motion.arrived:
            self._site_id = self._target_id
            dwell_s = self._trips.uniform(*DWELL_MIN) * 60.0
            self._hold_until_us = now_us + int(dwell_s * US_PER_S)
        elif reached.stop_s > 0:
            self._hold_until_us = now_us + int(reached.stop_s * US_PER_S)

    def _depart(self) -> None:
        target = self._choose_target()
        if target is None:
            self._hold_until_us = self._t_us + int(DWELL_MIN[1] * 60 * US_PER_S)
            return
        here = (self._motion.lat, self._motion.lon)
        self._motion.set_route(plan_route(self._trips, here, self._parking_spot(target)))
        self._target_id = target.id
        self._site_id = None

    def _choose_target(self) -> Site | None:
        home_id = self.vehicle.home_site_id
        if self._site_id != home_id and self._trips.random() < HOME_PROBABILITY:
            return self._sites[home_id]
        others = [site for site in self._sites.values() if site.id != self._site_id]
        return self._trips.choice(others) if others else None

    def _parking_spot(self, site: Site) -> tuple[float, float]:
        reach_m = site.radius_m * PARKING_SPREAD * math.sqrt(self._trips.random())
        angle = self._trips.uniform(0.0, 2 * math.pi)
        return offset_m(site.lat, site.lon, reach_m * math.cos(angle), reach_m * math.sin(angle))

    def _fix(self, t_us: int) -> Position:
        gps, motion = self._gps, self._motion
        accuracy_m = gps.uniform(*ACCURACY_M)
        # Per-axis sigma of half the accuracy puts ~86% of fixes within the stated radius.
        north_m, east_m = gps.gauss(0.0, accuracy_m / 2), gps.gauss(0.0, accuracy_m / 2)
        speed_noise, heading_noise = gps.gauss(0.0, 1.0), gps.gauss(0.0, 1.0)
        lat, lon = offset_m(motion.lat, motion.lon, north_m, east_m)
        moving = motion.speed_ms > 0
        speed_kmh = max(0.0, motion.speed_ms * 3.6 + GPS_SPEED_NOISE_KMH * speed_noise)
        heading = motion.heading_deg + (GPS_HEADING_NOISE_DEG * heading_noise if moving else 0.0)
        return Position(
            device_id=self.vehicle.id,
            ts_us=t_us,
            lat=round(lat, 6),
            lon=round(lon, 6),
            speed_kmh=round(speed_kmh, 1) if moving else 0.0,
            heading=round(heading % 360.0, 1) % 360.0,
            ignition=self._site_id is None,
            odometer_km=round(motion.odometer_m / 1000.0, 3),
            accuracy_m=round(accuracy_m, 1),
        )
