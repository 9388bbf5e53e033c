"""Benchmarks of caaspp_authz against Cedar, Rego and Casbin; run with ``python -m bench``.

Never imported by the library and never run by the test suite: see docs/performance.md.
"""
