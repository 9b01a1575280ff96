"""``--smoke`` for every benchmark: the smallest sizes, to check the script, not the product.

A benchmark that nobody runs rots: a refactor moves a module, renames a key or changes
a signature, and the next person to run it finds it broken. Each script therefore
accepts ``--smoke``, which swaps its defaults for the smallest sizes that still walk
every code path once (one repeat, a few steps, tiny fields), so ``tests/test_benchmarks.py``
can run it in seconds and check that it ends and prints the JSON it promises. The
figures of a smoke run mean nothing; its JSON says ``"smoke": true`` so they are not
mistaken for measurements. Options given explicitly still win over the smoke sizes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import Any

SMOKE_HELP = (
    "smallest sizes, one repeat: checks that the script runs end to end and prints its "
    "JSON (tests/test_benchmarks.py); the figures mean nothing"
)


def parse_args(
    parser: argparse.ArgumentParser,
    smoke: Mapping[str, Any],
    argv: Sequence[str] | None = None,
) -> argparse.Namespace:
    """Parse ``argv`` with ``--smoke`` added; under it, ``smoke`` replaces the defaults.

    Defaults are swapped rather than values overwritten, so that ``--smoke --steps 5``
    still means five steps.
    """
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    known, _ = parser.parse_known_args(argv)
    if known.smoke:
        parser.set_defaults(**smoke)
    return parser.parse_args(argv)


def emit(result: Mapping[str, Any], args: argparse.Namespace, indent: int = 2) -> None:
    """Print the benchmark's JSON on stdout, marked ``"smoke": true`` in smoke mode."""
    document = {"smoke": True, **result} if getattr(args, "smoke", False) else dict(result)
    print(json.dumps(document, indent=indent))
