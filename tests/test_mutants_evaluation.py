"""Tests that kill the mutants the suite let live (issue 13, class 9; docs/mutation.md).

Modules: lang/numbers.py, lang/functions.py and lang/interpret.py.
"""
