"""Benchmarks of secondapproval (pytest-benchmark) and the peer engines they compare with."""
