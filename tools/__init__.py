"""Command-line tools behind the Makefile targets for staff (new, fix, publish)."""
