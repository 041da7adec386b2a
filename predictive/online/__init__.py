"""Online per-unit anomaly detection: robust baselines, persistence and hysteresis."""
