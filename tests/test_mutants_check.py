"""Tests that kill the mutants the suite let live (issue 13, class 9; docs/mutation.md).

Modules: lang/check.py (the type checker).
"""
