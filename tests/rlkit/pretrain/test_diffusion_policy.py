"""The diffusion policy recovers known multimodal action distributions; checkpoints round trip."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from rlkit.nn import load_encoder
from rlkit.nn.spaces import space_to_dict
from rlkit.pretrain.dataset import Dataset
from rlkit.pretrain.diffusion.policy import ActionCodec
from rlkit.pretrain.diffusion.train import load_diffusion, make_policy, save_diffusion, train_diffusion


def synthetic(observations, actions, obs_space, act_space, episode_len=50):
    n = len(actions)
    starts = np.zeros(n, dtype=bool)
    starts[::episode_len] = True
    ends = np.roll(starts, -1)
    manifest = {"env_id": "synthetic", "observation_space": space_to_dict(obs_space), "action_space": space_to_dict(act_space)}
    return Dataset(observations, actions, np.zeros(n, np.float32), starts, ends, np.zeros(n, dtype=bool), manifest)


def fit(dataset, epochs, batch_size):
    policy = make_policy(dataset, "mlp", hidden=(128, 128), diffusion_steps=50, denoise_steps=10, seed=0)
    return train_diffusion(dataset, policy, epochs=epochs, batch_size=batch_size, learning_rate=5e-3, holdout=0.05, seed=0)


@pytest.mark.slow  # 1000 updates of 1024 (~50 s on 2 busy cores)
def test_two_modes_of_a_continuous_action_in_proportion():
    rng = np.random.default_rng(0)
    n = 2160
    upper = rng.random(n) < 0.7
    actions = np.where(upper, 0.6, -0.6) + 0.05 * rng.standard_normal(n)
    obs = np.zeros((n, 2), dtype=np.float32)
    data = synthetic(obs, actions.astype(np.float32)[:, None], spaces.Box(-1, 1, (2,)), spaces.Box(-1, 1, (1,)))
    result = fit(data, epochs=500, batch_size=1024)
    assert result.history[-1]["denoise_loss"] < result.history[0]["denoise_loss"]
    sampled = result.policy.predict(np.zeros((2000, 2), dtype=np.float32), deterministic=True)[0][:, 0]
    assert (sampled > 0).mean() == pytest.approx(0.7, abs=0.07)  # the nearer mode, in the data's proportion
    # Most samples inside a mode, not at the modes' average (0.24), where a Gaussian clone's mean would be.
    assert (np.minimum(np.abs(sampled - 0.6), np.abs(sampled + 0.6)) < 0.2).mean() > 0.75  # 0.83 measured


def test_two_discrete_actions_kept_apart_by_observation():
    rng = np.random.default_rng(1)
    n = 2100
    cell = rng.integers(0, 2, n)
    obs = np.eye(2, dtype=np.float32)[cell]
    actions = np.where(cell == 0, rng.choice([1, 2], n), 3).astype(np.int64)
    data = synthetic(obs, actions, spaces.Box(0, 1, (2,)), spaces.Discrete(4))
    policy = fit(data, epochs=40, batch_size=500).policy
    first = policy.predict(np.tile([[1.0, 0.0]], (1000, 1)).astype(np.float32))[0]
    second = policy.predict(np.tile([[0.0, 1.0]], (500, 1)).astype(np.float32))[0]
    assert (first == 1).mean() == pytest.approx(0.5, abs=0.08) and (first == 2).mean() == pytest.approx(0.5, abs=0.08)
    assert (second == 3).mean() > 0.95


def test_checkpoint_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    obs = rng.standard_normal((200, 3)).astype(np.float32)
    actions = rng.standard_normal((200, 2)).astype(np.float32)  # an unbounded Box: standardised codes
    data = synthetic(obs, actions, spaces.Box(-np.inf, np.inf, (3,)), spaces.Box(-np.inf, np.inf, (2,)))
    result = fit(data, epochs=2, batch_size=64)
    path = save_diffusion(result, tmp_path / "policy.pt", dataset="d.npz")
    loaded = load_diffusion(path)
    result.policy.seed(5)
    loaded.seed(5)
    a, _ = result.policy.predict(obs[:7], deterministic=False)
    b, _ = loaded.predict(obs[:7], deterministic=False)
    assert np.array_equal(a, b) and a.shape == (7, 2)
    single, _ = loaded.predict(obs[0])
    assert single.shape == (2,)
    enc = load_encoder(torch.load(path, weights_only=True)["encoder"])
    x = torch.as_tensor(obs[:4])
    assert torch.equal(enc(x), result.policy.encoder(x))
    assert load_diffusion(path, denoise_steps=3).denoise_steps == 3


def test_codec_and_bad_input():
    codec = ActionCodec(spaces.Discrete(3, start=1))
    assert np.array_equal(codec.encode(np.array([1, 3])), [[1, -1, -1], [-1, -1, 1]])
    assert np.array_equal(codec.decode(codec.encode(np.array([2, 3, 1]))), [2, 3, 1])
    box = ActionCodec(spaces.Box(np.array([0.0, -2.0], np.float32), np.array([1.0, 2.0], np.float32)))
    a = np.array([[0.25, 1.0]], dtype=np.float32)
    assert np.allclose(box.encode(a), [[-0.5, 0.5]]) and np.allclose(box.decode(box.encode(a)), a)
    with pytest.raises(ValueError, match="supports Discrete and flat Box"):
        ActionCodec(spaces.MultiDiscrete([2, 2]))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_diffusion("missing.pt")
