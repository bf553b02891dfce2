"""Customer tiers and value (issue 3, DOMAIN.md §1.2): engine.py holds the rules and the set-based SQL
evaluation, services.py the writes (starting an evaluation, overrides, rule changes), selectors.py the reads
(tier moves, distribution, value explanation); who may do what is customers.policy."""
