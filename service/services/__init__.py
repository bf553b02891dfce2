"""Writes of the service desk: tickets (tickets.py) and their SLA clocks (sla.py)."""
