"""Server-rendered pages of the orders app, one module per part (catalogue, agreements, orders, provisioning,
installed base)."""
