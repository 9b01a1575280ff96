"""oceansr: ocean super-resolution training with a durable background control plane."""

__version__ = "0.1.0"
