"""Settings: the structured schema, Hydra composition and the checks of a request.

The one place that defines a setting's type, choices and range and checks a request
before anything is spawned; values themselves live in the YAML files of ``conf/``.
Torch-free (docs/architecture.md, Configuration).
"""
