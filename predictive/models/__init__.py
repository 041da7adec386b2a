"""Multivariate models per equipment model: window features and IsolationForest pipelines."""
