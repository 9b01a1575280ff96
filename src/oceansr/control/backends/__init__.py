"""Launch backends by name: ``local`` (processes on this machine) and ``slurm`` (batch jobs).

``start(backend=...)`` resolves its argument here, and every reader looks up the
backend recorded in a run's run.json to judge and steer that run. Tests and plugins
register their own backend with :func:`register_backend` (see docs/architecture.md,
launch backends).
"""

from __future__ import annotations

import threading

from ..replies import RequestError
from .base import Backend, ExitCallback, StopOutcome
from .local import LocalBackend
from .slurm import SlurmBackend

DEFAULT_BACKEND = "local"

_registry: dict[str, Backend] = {}
_lock = threading.Lock()


def register_backend(backend: Backend, *, replace: bool = False) -> Backend:
    """Make ``backend`` available as ``start(backend=backend.name)``."""
    with _lock:
        if backend.name in _registry and not replace:
            raise ValueError(f"a backend named {backend.name!r} is already registered")
        _registry[backend.name] = backend
    return backend


def unregister_backend(name: str) -> None:
    """Forget a registered backend (the default one stays)."""
    if name == DEFAULT_BACKEND:
        raise ValueError(f"the {DEFAULT_BACKEND!r} backend cannot be removed")
    with _lock:
        _registry.pop(name, None)


def backend_names() -> tuple[str, ...]:
    """Names of the registered backends, default first."""
    with _lock:
        return tuple(sorted(_registry, key=lambda n: (n != DEFAULT_BACKEND, n)))


def get_backend(name: object) -> Backend:
    """The backend registered as ``name``; an unknown name is a ``config_error``."""
    with _lock:
        found = _registry.get(name) if isinstance(name, str) else None
    if found is None:
        allowed = ", ".join(map(repr, backend_names()))
        raise RequestError(f"backend={name!r} is not one of {allowed}", field="backend")
    return found


def find_backend(name: object) -> Backend | None:
    """The backend a recorded run names (``local`` when run.json predates the field),
    or None when this controller does not know it (readers then judge from files)."""
    with _lock:
        return _registry.get(name if isinstance(name, str) else DEFAULT_BACKEND)


register_backend(LocalBackend())
register_backend(SlurmBackend())

__all__ = [
    "DEFAULT_BACKEND",
    "Backend",
    "ExitCallback",
    "LocalBackend",
    "SlurmBackend",
    "StopOutcome",
    "backend_names",
    "find_backend",
    "get_backend",
    "register_backend",
    "unregister_backend",
]
