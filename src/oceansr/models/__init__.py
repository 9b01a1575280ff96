"""Super-resolution architectures, all with the contract ``model(lr) -> hr``.

Use :func:`build_model` (the config's ``model.name`` and ``model.*`` keys) rather than
the classes directly, so bad settings surface as :class:`~oceansr.core.errors.ConfigError`.
"""

from oceansr.models.registry import (
    MODEL_NAMES,
    build_model,
    list_models,
    scale_dependent_prefixes,
    zero_output,
)

__all__ = ["MODEL_NAMES", "build_model", "list_models", "scale_dependent_prefixes", "zero_output"]
