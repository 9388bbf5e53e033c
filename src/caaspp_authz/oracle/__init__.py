"""The oracle kit: this library as the reference other implementations are tested against.

- :mod:`caaspp_authz.oracle.table`: the exhaustive decision table (every role × action ×
  relation × rule set), as directories and requests.
- :mod:`caaspp_authz.oracle.corpus`: the conformance corpus written from that table, and the
  built-in copy shipped with the library.
- :mod:`caaspp_authz.oracle.conform`: run another implementation over a corpus.
- :mod:`caaspp_authz.oracle.checks`: static checks of the role catalog and decision diffs.
- :mod:`caaspp_authz.oracle.testfile`: declarative test files (TOML).

None of these is imported by the core; they sit at the edge beside the command line.
"""
