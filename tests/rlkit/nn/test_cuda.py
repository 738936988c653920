"""On a CUDA device: every encoder runs there from NumPy input, and matches its CPU twin (skipped without CUDA)."""

import numpy as np
import pytest
import torch

from rlkit.nn import fitting_encoders, make_encoder, sequence_encoder_names

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(autouse=True)
def _full_precision():
    # cuDNN convs default to TF32 on Ampere+; compare in full float32.
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


def test_feedforward_encoders_on_cuda_match_cpu(space_name, nnkit):
    space = nnkit.SPACES[space_name]
    for name in fitting_encoders(space):
        cpu = make_encoder(name, space, seed=0, **nnkit.tiny_kwargs(name, space)).eval()
        gpu = make_encoder(name, space, seed=0, **nnkit.tiny_kwargs(name, space)).cuda().eval()
        obs = nnkit.sample_batch(space, (5,))  # NumPy: the encoder moves it to its device
        out = gpu(obs)
        assert out.device.type == "cuda"
        torch.testing.assert_close(out.cpu(), cpu(obs), atol=1e-5, rtol=1e-4)
        if hasattr(gpu, "loss"):
            loss, _ = gpu.loss(obs)
            loss.backward()


@pytest.mark.parametrize("name", sequence_encoder_names())
def test_sequence_encoders_on_cuda(name, space_name, nnkit):
    space = nnkit.SPACES[space_name]
    kwargs = nnkit.tiny_kwargs(name, space, sequence=True)
    cpu = make_encoder(name, space, sequence=True, seed=0, **kwargs).eval()
    gpu = make_encoder(name, space, sequence=True, seed=0, **kwargs).cuda().eval()
    batch, steps = 3, 9
    obs = nnkit.sample_batch(space, (batch, steps))
    starts = np.random.default_rng(0).random((batch, steps)) < 0.25
    state = gpu.initial_state(batch)
    assert all(s.device.type == "cuda" for s in state)
    full, _ = gpu(obs, starts, state)
    torch.testing.assert_close(full.cpu(), cpu(obs, starts, None)[0], atol=1e-5, rtol=1e-4)
    outs = []
    for t in range(steps):
        step_obs = {k: v[:, t : t + 1] for k, v in obs.items()} if isinstance(obs, dict) else obs[:, t : t + 1]
        out, state = gpu(step_obs, starts[:, t : t + 1], state)
        outs.append(out)
    torch.testing.assert_close(torch.cat(outs, dim=1), full, atol=1e-5, rtol=1e-4)
