"""Pages of the service desk (tickets.py: the ticket page and its actions, my queue, the 360 panel)."""
