"""``python -m oceansr``: the ``oceansr`` command line (:mod:`oceansr.adapters.cli`)."""

from oceansr.adapters.cli import main

raise SystemExit(main())
