"""Reading telemetry about assets: latest vehicle positions, tracks, equipment readings."""
