"""Measuring Palabre on this machine (`palabre bench`) and the stack the measurements and the fault
tests start: real nats-server(s), real PostgreSQL, the services as processes (several replicas if asked)."""
