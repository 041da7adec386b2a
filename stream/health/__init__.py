"""Equipment health in the stream: anomaly detection on readings, the maintenance plans check."""
