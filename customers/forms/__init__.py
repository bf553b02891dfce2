"""Page forms of the customers app, one module per feature (customers, tiers, segments, coverage, imports).
They collect and type-check input only; the services validate and write."""
