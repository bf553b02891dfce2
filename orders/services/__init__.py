"""Write operations of the orders app, one module per part: `agreements`, `ordering` (orders, lines,
pre-acceptance forms), `provisioning` (work orders and their steps, the provisioning backend), `installed`
(subscriptions and resources)."""
