"""Planned preventive maintenance (ППР / PM): plans, due points and MaintenanceDue events."""
