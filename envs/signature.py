"""The signature of an env whose ``__init__(render_mode=None, **kwargs)`` builds a frozen params dataclass.

Gymnasium clients, ``help()`` and the CLI's hints for rejected kwargs read ``inspect.signature``;
this gives them ``render_mode`` and every field of the dataclass, keyword-only, with its default.
"""

from __future__ import annotations

import dataclasses
import inspect


def env_signature(params_class: type, *extra: inspect.Parameter) -> inspect.Signature:
    """The signature an env whose ``__init__(render_mode=None, **kwargs)`` builds `params_class` shows:
    ``render_mode`` and every field, keyword-only with its default (for help and kwargs hints)."""
    fields = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
        for f in dataclasses.fields(params_class)
    ]
    render_mode = inspect.Parameter("render_mode", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
    self_ = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return inspect.Signature([self_, render_mode, *extra, *fields])
