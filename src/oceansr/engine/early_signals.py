"""Catch Slurm's warning signal (SIGUSR1/SIGUSR2) before Lightning can handle it.

Slurm sends ``--signal=USR1@<s>`` (and ``scancel --signal=USR1`` preempts) whenever it
decides to, also while the trainer is still importing torch, loading data or joining the
DDP rendezvous. Lightning installs its auto-requeue handler only inside ``trainer.fit``;
until then Python's default action for SIGUSR1 *terminates* the process, and the run
would be recorded as a crash instead of a requeue (docs/architecture.md, launch
backends). This module is stdlib-only so that the entry point can install it before the
heavy imports.

The protocol, driven by :class:`oceansr.engine.callbacks.requeue.RequeueWatch`:

1. :func:`install` (top of ``oceansr.train.entry``): a handler that only remembers the signal.
2. :func:`hand_over` (``on_fit_start``, the last hook before Lightning registers its
   handlers): under Slurm auto-requeue, Lightning installs its USR1 handler only where
   none is installed, so ours steps aside for that signal.
3. :func:`take_pending` (``on_train_start``, Lightning's handler in place): the
   remembered signals are replayed into it, so the job checkpoints and requeues.

Outside Slurm a warning signal has no requeue meaning: the handler stays, and the
signal is written to the log and otherwise ignored (the run is not killed).
"""

from __future__ import annotations

import os
import signal
from types import FrameType

#: The signals Slurm uses for warnings that Python would die of by default.
WARNING_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGUSR1, signal.SIGUSR2)

_pending: list[int] = []


def _remember(signum: int, frame: FrameType | None) -> None:
    """Signal handler: note the signal (os.write: no buffered I/O inside a handler)."""
    _pending.append(signum)
    name = signal.Signals(signum).name
    os.write(2, f"oceansr: {name} received; kept for Slurm auto-requeue or ignored\n".encode())


def install() -> list[str]:
    """Catch the warning signals that still have Python's default (fatal) action.

    Returns the names of the signals now caught (a handler someone else installed is
    left alone). Only from the main thread, as :func:`signal.signal` requires.
    """
    caught = []
    for signum in WARNING_SIGNALS:
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, _remember)
            caught.append(signum.name)
    return caught


def is_early_handler(handler: object) -> bool:
    """Whether ``handler`` is this module's (so not a handler to wrap or keep)."""
    return handler is _remember


def hand_over(signum: int) -> bool:
    """Restore the default action of ``signum`` so Lightning installs its own handler.

    A signal in the instant between this call and Lightning's registration (restoring
    the training state: milliseconds) is not protected; everything before it is.
    """
    if not is_early_handler(signal.getsignal(signum)):
        return False
    signal.signal(signum, signal.SIG_DFL)
    return True


def take_pending() -> list[int]:
    """The signals received so far (oldest first); the record is cleared."""
    taken = list(_pending)
    del _pending[: len(taken)]
    return taken
