"""Predictive maintenance: online anomaly detection, multivariate models, health."""
