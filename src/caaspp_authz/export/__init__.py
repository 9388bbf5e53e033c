"""Exports of the policy to established engines: SpiceDB and Cedar, and the deltas that keep
an engine in step with uploads.

The engines themselves are never imported here: :mod:`caaspp_authz.export.spicedb` and
:mod:`caaspp_authz.export.cedar` produce text and data that the engines read, and
:mod:`caaspp_authz.export.delta` turns a change report into relationship writes. The tests
(and ``pip install 'caaspp-authz[engines]'``) bring the engines to prove each export decides
exactly as :func:`~caaspp_authz.can` does.
"""
