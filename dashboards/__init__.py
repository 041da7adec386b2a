"""Grafana dashboards as code: pure builders over the `reporting` views, provisioning files,
and publishing to a running Grafana."""
