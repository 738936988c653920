"""The global RNG states training draws from (Python, NumPy's legacy global, torch CPU and CUDA):
captured into a checkpoint, restored on resume, and preserved around evaluations and checkpoints."""

from __future__ import annotations

import contextlib
import random
from typing import Any, Iterator

import numpy as np
import torch


def capture_rng() -> dict[str, Any]:
    """The global RNG states that training draws from: Python, NumPy (legacy global), torch (CPU and CUDA)."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Run a block (an evaluation, a checkpoint) without changing the global RNG streams of training."""
    state = capture_rng()
    try:
        yield
    finally:
        restore_rng(state)
