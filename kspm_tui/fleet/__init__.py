"""The fleet view: posture of many clusters read from the PolicyReports their in-cluster
reporters keep (`reports.py`: findings rebuilt from them; `service.py`: every context at once)."""
