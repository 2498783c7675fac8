"""The expression language: parse (Python `ast`, whitelisted) → IR → type check → evaluate."""
