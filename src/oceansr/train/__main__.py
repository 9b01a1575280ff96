"""``python -m oceansr.train``: catch Slurm's warning signals, then import torch and train.

A warning that arrives while the job still imports torch, loads data or joins the
rendezvous would kill the process by Python's default action, so the handlers go in
before any heavy import (docs/architecture.md, launch backends).
"""

from oceansr.engine import early_signals

early_signals.install()

from oceansr.train.entry import main  # noqa: E402  (after the handlers, by design)

main()
