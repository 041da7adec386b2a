"""Vehicle kinematics along a route: accelerate, cruise, slow for corners, stop."""

from __future__ import annotations

import math

from devices.simulator.geography import bearing_deg, destination, haversine_m
from devices.simulator.routes import Waypoint

ACCEL_MS2 = 1.2
# Planned deceleration; braking harder than MAX_BRAKE_MS2 never happens.
DECEL_MS2 = 1.5
MAX_BRAKE_MS2 = 4.0
KMH_PER_MS = 3.6
# Waypoints looked ahead when braking: a short leg may end in a stop just past a corner.
LOOKAHEAD_WAYPOINTS = 3


class Motion:
    """Position, speed, heading and odometer of a vehicle following its route."""

    def __init__(self, lat: float, lon: float, *, heading_deg: float, odometer_m: float) -> None:
        self.lat = lat
        self.lon = lon
        self.speed_ms = 0.0
        self.heading_deg = heading_deg
        self.odometer_m = odometer_m
        self._route: tuple[Waypoint, ...] = ()
        self._leg_m: list[float] = []
        self._leg = 0

    @property
    def arrived(self) -> bool:
        """Whether the route is done (or there is none)."""
        return self._leg >= len(self._route)

    def set_route(self, route: tuple[Waypoint, ...]) -> None:
        """Start following a new route from the current position."""
        self._route = route
        self._leg = 0
        here = (self.lat, self.lon)
        self._leg_m = []
        for waypoint in route:
            self._leg_m.append(haversine_m(*here, waypoint.lat, waypoint.lon))
            here = (waypoint.lat, waypoint.lon)

    def step(self, dt_s: float) -> Waypoint | None:
        """Drive for dt_s; the waypoint where the vehicle had to stop, if it reached one."""
        if self.arrived:
            self.speed_ms = 0.0
            return None
        new_speed_ms = self._next_speed(dt_s)
        distance_m = (self.speed_ms + new_speed_ms) / 2 * dt_s
        self.speed_ms = new_speed_ms
        return self._move(distance_m)

    def _next_speed(self, dt_s: float) -> float:
        cruise_ms = self._route[self._leg].cruise_kmh / KMH_PER_MS
        desired_ms = min(cruise_ms, self._braking_limit_ms(dt_s))
        if self.speed_ms < desired_ms:
            return min(desired_ms, self.speed_ms + ACCEL_MS2 * dt_s)
        return max(desired_ms, self.speed_ms - MAX_BRAKE_MS2 * dt_s)

    def _braking_limit_ms(self, dt_s: float) -> float:
        """The fastest end-of-step speed from which planned braking meets the end speeds ahead."""
        current = self._route[self._leg]
        ahead_m = haversine_m(self.lat, self.lon, current.lat, current.lon)
        limit_ms = math.inf
        for index in range(self._leg, min(self._leg + LOOKAHEAD_WAYPOINTS, len(self._route))):
            waypoint = self._route[index]
            ahead_m += self._leg_m[index] if index > self._leg else 0.0
            end_ms = waypoint.end_kmh / KMH_PER_MS
            limit_ms = min(limit_ms, self._limit_for(end_ms, ahead_m, dt_s))
            if end_ms == 0.0:
                break
        return limit_ms

    def _limit_for(self, end_ms: float, ahead_m: float, dt_s: float) -> float:
        # Largest v with v² <= end² + 2·a·(ahead - (speed + v)/2·dt): the braking curve is
        # met at the end of the step, not its start, so stops are reached smoothly.
        brake_ms = DECEL_MS2 * dt_s
        slack = end_ms**2 + 2 * DECEL_MS2 * ahead_m - brake_ms * self.speed_ms
        return max(0.0, (-brake_ms + math.sqrt(brake_ms**2 + 4 * max(0.0, slack))) / 2)

    def _move(self, distance_m: float) -> Waypoint | None:
        while distance_m > 0 and not self.arrived:
            waypoint = self._route[self._leg]
            remaining_m = haversine_m(self.lat, self.lon, waypoint.lat, waypoint.lon)
            if remaining_m > 0:
                self.heading_deg = bearing_deg(self.lat, self.lon, waypoint.lat, waypoint.lon)
            if distance_m < remaining_m:
                self.lat, self.lon = destination(self.lat, self.lon, self.heading_deg, distance_m)
                self.odometer_m += distance_m
                return None
            self.lat, self.lon = waypoint.lat, waypoint.lon
            self.odometer_m += remaining_m
            distance_m -= remaining_m
            self._leg += 1
            if waypoint.stop_s > 0 or self.arrived:
                self.speed_ms = 0.0
                return waypoint
        return None
