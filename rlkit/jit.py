"""Numba's ``njit`` with an on-disk cache that never makes an import fail."""

from __future__ import annotations

import warnings
from typing import Callable

import numba

__all__ = ["cached_njit"]

_warned_no_cache = False


def cached_njit(fn: Callable) -> Callable:
    """``numba.njit(cache=True, nogil=True)``; without a writable cache directory, an uncached JIT and a warning.

    Numba raises at decoration time when no cache locator can write (read-only package directory,
    no writable home, no ``NUMBA_CACHE_DIR``); an import must not fail for that.
    """
    global _warned_no_cache
    try:
        return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError as exc:
        if "no locator available" not in str(exc):
            raise
        if not _warned_no_cache:
            warnings.warn(
                "rlkit: no writable Numba cache directory (read-only install and no writable "
                "home); kernels are compiled in every process. Set NUMBA_CACHE_DIR to a writable "
                "directory to cache them.",
                RuntimeWarning,
                stacklevel=2,
            )
            _warned_no_cache = True
        return numba.njit(cache=False, nogil=True)(fn)
