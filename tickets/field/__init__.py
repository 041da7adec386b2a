"""Field control on the tickets side: GPS visits move tickets, prove presence, and report."""
