"""Subcommands of the CLI: each module here has `register(subparsers)` and is found by name."""
