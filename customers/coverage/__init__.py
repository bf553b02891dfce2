"""Service coverage (seed 004): selectors.py finds the gaps (uncovered customers, overloaded account managers,
overdue visits), services.py assigns; who may see the page or assign is customers.policy."""
