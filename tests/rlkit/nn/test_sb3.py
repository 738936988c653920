"""EncoderExtractor inside SB3's PPO: short runs with every feed-forward adapter, save/load, checkpoints, freezing."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecFrameStack

from rlkit.nn import load_encoder, make_encoder, read_checkpoint, save_encoder
from rlkit.nn.sb3 import EncoderExtractor


class BrightSideEnv(gym.Env):
    """A uint8 image (1, 36, 36) lit on the left or the right half; reward 1 for naming the side. 8 steps."""

    def __init__(self):
        self.observation_space = spaces.Box(0, 255, (1, 36, 36), np.uint8)
        self.action_space = spaces.Discrete(2)

    def _observe(self):
        self.side = int(self.np_random.integers(2))
        image = np.zeros((1, 36, 36), np.uint8)
        image[:, :, 18 * self.side : 18 * (self.side + 1)] = 255
        return image

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._observe(), {}

    def step(self, action):
        reward = float(action == self.side)
        self.t += 1
        return self._observe(), reward, False, self.t >= 8, {}


def _train_save_reload(policy, env, extractor_kwargs, tmp_path, steps=128):
    model = PPO(
        policy,
        env,
        n_steps=64,
        batch_size=32,
        n_epochs=1,
        seed=0,
        device="cpu",
        policy_kwargs=dict(features_extractor_class=EncoderExtractor, features_extractor_kwargs=extractor_kwargs,
                           net_arch=[16]),  # fmt: skip
    )
    model.learn(steps)
    assert model.num_timesteps >= steps
    model.save(tmp_path / "model.zip")
    loaded = PPO.load(tmp_path / "model.zip", device="cpu")
    obs = env.reset()
    for _ in range(5):
        actions, _ = model.predict(obs, deterministic=True)
        again, _ = loaded.predict(obs, deterministic=True)
        np.testing.assert_array_equal(actions, again)
        obs, *_ = env.step(actions)
    return model, loaded


def _frame_stack(env_id, n):
    return lambda: gym.wrappers.FrameStackObservation(gym.make(env_id), n)


CASES = {
    "mlp": ("MlpPolicy", lambda: make_vec_env("CartPole-v1", n_envs=2, seed=0), dict(encoder="mlp", hidden_sizes=[16])),
    "cnn-image": (
        "CnnPolicy",
        lambda: make_vec_env(BrightSideEnv, n_envs=2, seed=0),
        dict(encoder="cnn", channels=[4, 8, 8], features_dim=16),
    ),
    "vae": ("MlpPolicy", lambda: make_vec_env("CartPole-v1", n_envs=2, seed=0), dict(encoder="vae", latent_dim=4)),
    "tcn-window": (
        "MlpPolicy",
        lambda: make_vec_env(_frame_stack("CartPole-v1", 4), n_envs=2, seed=0),
        dict(encoder="tcn", channels=8),
    ),
    "transformer-window": (
        "MlpPolicy",
        lambda: make_vec_env(_frame_stack("CartPole-v1", 4), n_envs=2, seed=0),
        dict(encoder="transformer", d_model=8, num_heads=2, num_layers=1),
    ),
    "gru-vecframestack": (
        "MlpPolicy",
        lambda: VecFrameStack(make_vec_env("CartPole-v1", n_envs=2, seed=0), n_stack=3),
        dict(encoder="gru", hidden_size=8, window=3),
    ),
    "dict": (
        "MultiInputPolicy",
        lambda: make_vec_env(
            lambda: gym.wrappers.TransformObservation(
                gym.make("CartPole-v1"), lambda o: {"state": o}, spaces.Dict({"state": gym.make("CartPole-v1").observation_space})
            ),
            n_envs=2,
            seed=0,
        ),
        dict(encoder="mlp", hidden_sizes=[8]),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_ppo_trains_saves_and_reloads(case, tmp_path):
    policy, make_env, kwargs = CASES[case]
    env = make_env()
    model, loaded = _train_save_reload(policy, env, kwargs, tmp_path)
    extractor = model.policy.features_extractor
    assert isinstance(extractor, EncoderExtractor) and extractor.encoder.name == kwargs["encoder"]
    assert extractor.features_dim == extractor.encoder.output_dim
    for (k, a), (_, b) in zip(model.policy.state_dict().items(), loaded.policy.state_dict().items()):
        assert torch.equal(a, b), k


def test_image_extractor_sees_what_the_raw_encoder_sees(tmp_path):
    """SB3 divides uint8 images by 255 before the extractor; rlkit must not divide again."""
    env = make_vec_env(BrightSideEnv, n_envs=1, seed=0)
    model = PPO("CnnPolicy", env, n_steps=64, batch_size=32, device="cpu", seed=0,
                policy_kwargs=dict(features_extractor_class=EncoderExtractor,
                                   features_extractor_kwargs=dict(encoder="cnn", preset="grid", features_dim=8)))  # fmt: skip
    obs = env.reset()
    obs_tensor, _ = model.policy.obs_to_tensor(obs)
    via_sb3 = model.policy.extract_features(obs_tensor, model.policy.features_extractor)
    direct = model.policy.features_extractor.encoder(obs)  # raw uint8 through rlkit's own preprocessing
    torch.testing.assert_close(via_sb3, direct, rtol=0, atol=0)


def test_pretrained_checkpoint_loads_and_freezes(tmp_path):
    space = gym.make("CartPole-v1").observation_space
    pretrained = make_encoder("vae", space, latent_dim=4, hidden_sizes=[8], seed=1)
    with torch.no_grad():
        for p in pretrained.parameters():
            p.add_(0.5)  # not a fresh initialisation
    path = save_encoder(pretrained, tmp_path / "vae.pt", source="test")
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model, loaded = _train_save_reload("MlpPolicy", env, dict(checkpoint=str(path), freeze=True), tmp_path)
    for extractor in (model.policy.features_extractor, loaded.policy.features_extractor):
        assert extractor.frozen and not extractor.encoder.training  # kept in eval mode through training
        for (k, a), b in zip(extractor.encoder.state_dict().items(), pretrained.state_dict().values()):
            assert torch.equal(a, b), f"{k} changed although frozen"
        assert not any(p.requires_grad for p in extractor.encoder.parameters())
    # Loading without freezing trains the encoder from the pretrained weights.
    unfrozen = EncoderExtractor(space, checkpoint=read_checkpoint(path))
    assert all(p.requires_grad for p in unfrozen.parameters())
    torch.testing.assert_close(unfrozen(torch.zeros(1, 4)), load_encoder(path).eval()(torch.zeros(1, 4)))


def test_checkpoint_mismatches_are_refused(tmp_path):
    space = spaces.Box(-1.0, 1.0, (4,), np.float32)
    path = save_encoder(make_encoder("mlp", space, hidden_sizes=[8]), tmp_path / "mlp.pt")
    with pytest.raises(ValueError, match="checkpoint of a 'mlp' encoder"):
        EncoderExtractor(space, encoder="cnn", checkpoint=path)
    with pytest.raises(ValueError, match="checkpoint made with"):
        EncoderExtractor(space, checkpoint=path, hidden_sizes=[16])
    with pytest.raises(ValueError, match=r"shape=\(4,\).*shape=\(5,\)"):
        EncoderExtractor(spaces.Box(-1.0, 1.0, (5,), np.float32), checkpoint=path)
    with pytest.raises(ValueError, match="sequence"):
        EncoderExtractor(space, encoder="lstm", sequence=True)
    assert EncoderExtractor(space, checkpoint=path, hidden_sizes=[8]).features_dim == 8
