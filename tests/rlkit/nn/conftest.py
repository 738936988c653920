"""Shared cases for the encoder tests: one space of each kind the registry reads, tiny sizes.

Tests take a ``space_name`` argument to run over every space in ``SPACES`` and parametrize over
``rlkit.nn.encoder_names()``, so a new space kind or a newly registered encoder is covered at
once. Helpers reach the tests through the ``nnkit`` fixture (test files cannot import each other
under ``--import-mode=importlib``).
"""

import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from gymnasium import spaces

SPACES = {
    "vector": spaces.Box(-1.0, 1.0, (5,), np.float32),
    "window": spaces.Box(-1.0, 1.0, (6, 3), np.float32),
    "image": spaces.Box(0, 255, (3, 36, 36), np.uint8),
    "grid": spaces.Box(0.0, 5.0, (4, 5, 5), np.float32),
    "discrete": spaces.Discrete(5, start=1),
    "multidiscrete": spaces.MultiDiscrete([3, 4]),
    "multibinary": spaces.MultiBinary(4),
    "dict": spaces.Dict({"pos": spaces.Box(-1.0, 1.0, (3,), np.float32), "item": spaces.Discrete(3)}),
}

# Small sizes for every family, so the whole folder runs in seconds.
TINY = {
    "mlp": dict(hidden_sizes=(8,)),
    "cnn": dict(channels=(4, 4), features_dim=8),
    "vae": dict(latent_dim=3, hidden_sizes=(8,), hidden_dim=8, channels=(4, 4)),
    "lstm": dict(hidden_size=8),
    "gru": dict(hidden_size=8),
    "tcn": dict(channels=6, num_blocks=2, kernel_size=2),
    "transformer": dict(d_model=8, num_heads=2, num_layers=2, context_len=4),
}


def tiny_kwargs(name, space, sequence=False):
    """TINY[name], minus the options this space's variant of the family does not take."""
    kwargs = dict(TINY.get(name, {}))
    if name == "vae" and isinstance(space, spaces.Box) and len(space.shape) == 1:
        kwargs.pop("hidden_dim"), kwargs.pop("channels")
    if name == "vae" and isinstance(space, spaces.Box) and len(space.shape) == 3:
        kwargs.pop("hidden_sizes")
    if name == "transformer" and not sequence:
        kwargs.pop("context_len")  # a window encoder's context is its window
    if name == "tcn" and not sequence:
        kwargs.pop("num_blocks")  # sized to cover the window
    return kwargs


def sample_batch(space, lead, seed=0):
    """Raw observations of shape (*lead, *space.shape) (a dict for Dict) from a seeded copy of the space."""
    space = copy.deepcopy(space)
    space.seed(seed)
    n = int(np.prod(lead))
    samples = [space.sample() for _ in range(n)]
    if isinstance(space, spaces.Dict):
        return {k: np.stack([s[k] for s in samples]).reshape(*lead, *space[k].shape) for k in space.spaces}
    return np.stack(samples).reshape(*lead, *space.shape)


def pytest_generate_tests(metafunc):
    if "space_name" in metafunc.fixturenames:
        metafunc.parametrize("space_name", list(SPACES))
    if "fit_case" in metafunc.fixturenames:
        # Every (registered encoder, space) pair the registry accepts, as (name, space_name).
        from rlkit.nn import fitting_encoders

        cases = [(name, s) for s, space in SPACES.items() for name in fitting_encoders(space)]
        metafunc.parametrize("fit_case", cases, ids=[f"{s}-{name}" for name, s in cases])


@pytest.fixture
def nnkit():
    return SimpleNamespace(SPACES=SPACES, tiny_kwargs=tiny_kwargs, sample_batch=sample_batch)


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)
