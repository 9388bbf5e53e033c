"""``python -m bench``: run the benchmark and print its report."""

from bench.run import main

raise SystemExit(main())
