"""The instance application behind the ALB: a root page and /health, which answers 200
only when Aurora answers a query over verified TLS (see README, "Instance application")."""
