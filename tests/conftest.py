"""Shared fixtures: one tiny real training run serves many assertions."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

# Tiny and fast: SRCNN, 16-px patches, 2 training steps, whole-field val/test.
SMOKE = ["experiment=smoke"]


_SCRIPT_IDS = itertools.count()


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def smoke_run(runs_root: Path):
    """A real in-process training (fit + test) on the bundled sample."""
    from oceansr.train.entry import train

    return train([*SMOKE, f"runs_root={runs_root}"])


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child Python processes: quiet, deterministic thread count."""
    env = dict(os.environ)
    env.update({"PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"})
    env.update(extra)
    return env


@pytest.fixture
def script_backend() -> Iterator[Callable[[str], str]]:
    """Register a backend that runs ``python -c code`` instead of the trainer (cheap
    start-up tests through the public ``start(backend=...)`` seam); returns its name."""
    from oceansr.control.backends import register_backend, unregister_backend
    from runfactory import ScriptBackend

    names: list[str] = []

    def register(code: str) -> str:
        backend = register_backend(ScriptBackend(f"script-{next(_SCRIPT_IDS)}", code))
        names.append(backend.name)
        return backend.name

    yield register
    for name in names:
        unregister_backend(name)
