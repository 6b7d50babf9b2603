"""The composition root: the `palabre` command, the service registry, the embedded servers and the demo.

`shared/` is the library the services use; this package is the only place that knows every service."""
