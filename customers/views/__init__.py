"""Server-rendered pages of the customers app, one module per feature: customers.py (list, 360 page, edit,
merge, handover, lookup), tiers.py, segments.py, coverage.py, imports.py, and home.py (the home-page panels).
Thin: forms from customers.forms, reads from selectors, writes through services, who may from customers.policy."""
