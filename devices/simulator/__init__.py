"""The device fleet simulator.

`fleet` (with `geography`, `equipment`, `duty`, `equipment_sim`, `routes`, `vehicles`,
`vehicle_motion`, `faults`, `invalid`) is a pure, deterministic model: no I/O, no clock.
`codec`, `publisher` and `run` put its samples on MQTT in real time.
"""
