"""Pure domain of intake: validation of contributions and parsing of imported files (no I/O)."""
