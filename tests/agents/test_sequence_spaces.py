"""Sequence PPO in every space it reads and acts in: Box, Discrete, MultiDiscrete, MultiBinary, Dict and
Tuple observations; Discrete, MultiDiscrete (with masks), MultiBinary and Box actions.

The oracle is the rollout itself: one chunked training pass must reproduce the values and log-probabilities
the policy gave while acting, for every space (a wrong reshape, one-hot or action layout breaks it).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.vec_env import DummyVecEnv

from agents import get_algo
from agents.sequence_ppo import SequencePPO
from rlkit.nn import sequence_encoder_names

ENCODERS = sequence_encoder_names()
TINY = {
    "lstm": {"hidden_size": 8},
    "gru": {"hidden_size": 8},
    "tcn": {"channels": 8, "num_blocks": 2},
    "transformer": {"d_model": 8, "num_heads": 2, "num_layers": 1, "context_len": 6},
}
BOX = spaces.Box(-1.0, 1.0, (3,), np.float32)
OBSERVATION_SPACES = {
    "box": BOX,
    "discrete": spaces.Discrete(4),
    "discrete-start": spaces.Discrete(3, start=-1),
    "multidiscrete": spaces.MultiDiscrete([2, 3]),
    "multibinary": spaces.MultiBinary(3),
    "dict": spaces.Dict({"pos": BOX, "card": spaces.Discrete(5)}),
    "tuple": spaces.Tuple((spaces.Discrete(2), spaces.Discrete(4))),
}
ACTION_SPACES = {
    "discrete": spaces.Discrete(3),
    "multidiscrete": spaces.MultiDiscrete([3, 2]),
    "multidiscrete-start": spaces.MultiDiscrete([3, 2], start=[1, -1]),
    "multibinary": spaces.MultiBinary(3),
    "box": spaces.Box(-1.0, 1.0, (2,), np.float32),
}


class SpaceEnv(gym.Env):
    """Random observations of ``observation_space``, episodes of 1 to 6 steps, a random reward; with
    ``masks``, a random ``info["action_mask"]`` (each block allows at least one action) and a count of
    actions taken against it in ``violations``."""

    def __init__(self, observation_space, action_space, masks=False):
        self.observation_space, self.action_space, self.masks = observation_space, action_space, masks
        self.violations = 0

    def _info(self):
        if not self.masks:
            return {}
        blocks = [self.action_space.n] if isinstance(self.action_space, spaces.Discrete) else list(self.action_space.nvec)
        mask = []
        for n in blocks:
            block = self.np_random.random(n) < 0.5
            block[self.np_random.integers(n)] = True
            mask.append(block)
        self.mask = mask
        return {"action_mask": np.concatenate(mask).astype(np.int8)}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.observation_space.seed(int(self.np_random.integers(2**31)))
        self.t, self.length = 0, int(self.np_random.integers(1, 7))
        return self.observation_space.sample(), self._info()

    def step(self, action):
        assert self.action_space.contains(np.asarray(action, dtype=self.action_space.dtype)), action
        if self.masks:
            index = np.atleast_1d(np.asarray(action) - self.action_space.start)
            self.violations += sum(not block[i] for block, i in zip(self.mask, index))
        self.t += 1
        return self.observation_space.sample(), float(self.np_random.normal()), self.t >= self.length, False, self._info()


def _agent(encoder, observation_space, action_space, masks=False, **kwargs):
    env = DummyVecEnv([lambda: SpaceEnv(observation_space, action_space, masks)] * 3)
    env.seed(0)
    policy_kwargs = {"encoder": encoder, "encoder_kwargs": TINY[encoder], "net_arch": [8], **kwargs.pop("policy_kwargs", {})}
    return SequencePPO("SequencePolicy", env, policy_kwargs=policy_kwargs, n_steps=24, batch_size=24, n_epochs=1,
                       bptt_len=4, seed=0, device="cpu", **kwargs)  # fmt: skip


def _collect(model):
    model._setup_learn(model.n_steps * model.n_envs, None)
    callback = CallbackList([])
    callback.init_callback(model)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)
    return model.rollout_buffer


def _replay(model, buffer):
    """Values and log-probs of a training-time forward over every chunk, beside the rollout's, where valid."""
    model.policy.set_training_mode(False)
    out = {"values": [], "old_values": [], "log_probs": [], "old_log_probs": []}
    with torch.no_grad():
        for batch in buffer.get(5):
            masks = None if batch.action_masks is None else batch.action_masks.bool() | ~batch.mask.unsqueeze(-1)
            actions = model.policy.actions_from_buffer(batch.actions)
            chunk = (actions, batch.rewards) if model.policy.previous.active else None
            dist, values, _ = model.policy(batch.observations, batch.episode_starts, batch.states, masks, chunk)
            valid = batch.mask
            out["values"].append(values[valid])
            out["old_values"].append(batch.old_values[valid])
            out["log_probs"].append(dist.log_prob(actions)[valid])
            out["old_log_probs"].append(batch.old_log_prob[valid])
    return {key: torch.cat(value) for key, value in out.items()}


def _check_replay(model):
    buffer = _collect(model)
    assert buffer.episode_starts[1:].any(), "no episode starts inside the rollout"
    out = _replay(model, buffer)
    assert len(out["values"]) == buffer.buffer_size * buffer.n_envs
    torch.testing.assert_close(out["values"], out["old_values"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out["log_probs"], out["old_log_probs"], atol=1e-5, rtol=1e-5)
    return buffer


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("space", OBSERVATION_SPACES)
def test_chunked_training_reproduces_the_rollout_for_every_observation_space(encoder, space):
    _check_replay(_agent(encoder, OBSERVATION_SPACES[space], spaces.Discrete(3)))


# The actor heads do not depend on the encoder: one recurrent, one attention-based.
@pytest.mark.parametrize("encoder", ["gru", "transformer"])
@pytest.mark.parametrize("space", ACTION_SPACES)
def test_chunked_training_reproduces_the_rollout_for_every_action_space(encoder, space):
    _check_replay(_agent(encoder, BOX, ACTION_SPACES[space]))


@pytest.mark.parametrize("space", ["discrete", "multidiscrete", "multidiscrete-start"])
def test_action_masks_are_stored_replayed_and_obeyed(space):
    model = _agent("gru", BOX, ACTION_SPACES[space], masks=True)
    buffer = _check_replay(model)
    assert buffer.action_masks is not None and not buffer.action_masks.all()
    model.learn(2 * model.n_steps * model.n_envs)
    assert sum(env.violations for env in model.env.envs) == 0


def test_multidiscrete_masks_change_the_sub_action_distributions():
    """A mask that allows one value per block makes that value certain (log-prob 0), and blocks that allow
    nothing are read as allowing everything."""
    model = _agent("gru", BOX, spaces.MultiDiscrete([3, 2]))
    obs = np.zeros((2, 3), np.float32)
    masks = np.array([[0, 1, 0, 1, 0], [0, 0, 0, 1, 1]], dtype=bool)
    actions, _ = model.predict(obs, action_masks=masks)
    assert actions[0].tolist() == [1, 0] and actions[1][0] in (0, 1, 2)
    with pytest.raises(ValueError, match="expected 5 for MultiDiscrete"):
        model.predict(obs, action_masks=masks[:, :3])


def test_predict_reads_a_tuple_observation_alone_or_batched():
    model = _agent("lstm", OBSERVATION_SPACES["tuple"], ACTION_SPACES["multibinary"])
    action, state = model.predict((1, 3))
    assert action.shape == (3,) and set(action.tolist()) <= {0, 1} and state[0].shape[0] == 1
    actions, _ = model.predict((np.array([0, 1]), np.array([2, 3])), deterministic=True)
    assert actions.shape == (2, 3) and actions.dtype == np.int8


@pytest.mark.parametrize(
    "action_space, message",
    [
        (spaces.Tuple((spaces.Discrete(2), spaces.Discrete(2))), "flatten a Dict or Tuple action space"),
        (spaces.Box(-1, 1, (2, 2), np.float32), "expected a flat"),
        (spaces.MultiBinary([2, 2]), "expected a flat MultiBinary"),
    ],
)
def test_action_spaces_it_cannot_act_in_are_refused_in_one_line(action_space, message):
    with pytest.raises(ValueError, match=message) as info:
        _agent("gru", BOX, action_space)
    assert "\n" not in str(info.value)


def test_registered_for_every_action_space_it_acts_in():
    spec = get_algo("ppo-seq")
    assert all(spec.fits(space) for space in ACTION_SPACES.values())
    assert not spec.fits(spaces.Tuple((spaces.Discrete(2),)))


# --- previous action and reward as inputs (policy_kwargs prev_action / prev_reward) ------------------------

PREVIOUS = {"prev_action": True, "prev_reward": True}


@pytest.mark.parametrize("encoder", ["lstm", "tcn", "transformer"])
@pytest.mark.parametrize("space", ["discrete", "multidiscrete", "box"])
def test_chunked_training_reproduces_the_rollout_with_previous_action_and_reward(encoder, space):
    _check_replay(_agent(encoder, OBSERVATION_SPACES["discrete"], ACTION_SPACES[space], policy_kwargs=PREVIOUS))


@pytest.mark.parametrize("which", ["prev_action", "prev_reward"])
def test_the_memory_holds_the_previous_action_and_reward_zero_at_episode_starts(which):
    """Plain-Python oracle over the stored rollout: the memory before step t holds the action taken and the
    reward earned at t - 1, or zeros where t starts an episode."""
    model = _agent("gru", BOX, ACTION_SPACES["multidiscrete"], policy_kwargs={which: True})
    buffer = _collect(model)
    stored = buffer.states[-1]  # (n_steps, n_envs, width): the last memory tensor is the previous-step input
    nvec = [3, 2]
    for t in range(buffer.buffer_size):
        for e in range(buffer.n_envs):
            if buffer.episode_starts[t, e] or t == 0:
                expected = np.zeros(sum(nvec) if which == "prev_action" else 1)
                if t == 0 and not buffer.episode_starts[t, e]:
                    continue  # carried over from before the rollout
            elif which == "prev_action":
                expected = np.concatenate([np.eye(n)[int(a)] for n, a in zip(nvec, buffer.actions[t - 1, e])])
            else:
                expected = np.array([buffer.rewards[t - 1, e]])
            np.testing.assert_allclose(stored[t, e], expected, rtol=1e-6, atol=1e-6, err_msg=f"t={t} env={e}")


def test_replay_with_previous_inputs_would_notice_a_wrong_shift():
    """The exactness check can fail: chunks whose stored previous-step memory is zeroed read other values."""
    model = _agent("gru", BOX, ACTION_SPACES["discrete"], policy_kwargs=PREVIOUS)
    buffer = _collect(model)
    for stored in buffer.states[-2:]:
        stored[:] = 0.0
    out = _replay(model, buffer)
    assert (out["values"] - out["old_values"]).abs().max() > 1e-4


def test_predict_needs_the_previous_reward_and_the_policy_reads_it():
    model = _agent("lstm", BOX, ACTION_SPACES["discrete"], policy_kwargs={"prev_reward": True})
    obs = np.zeros((2, 3), np.float32)
    _, state = model.predict(obs, episode_start=np.ones(2, bool))
    with pytest.raises(ValueError, match="pass reward="):
        model.predict(obs, state=state, episode_start=np.zeros(2, bool))
    model.policy.set_training_mode(False)
    values = []
    for reward in (0.0, 5.0):
        memory = model.policy.with_reward(tuple(torch.as_tensor(s) for s in state), np.full(2, reward))
        with torch.no_grad():
            _, v, _ = model.policy(torch.as_tensor(obs)[:, None], torch.zeros(2, 1, dtype=torch.bool), memory)
        values.append(v)
    assert not torch.allclose(values[0], values[1])


def test_previous_inputs_through_rlkit_train_and_refused_by_sb3_agents(tmp_path):
    from rlkit.app.config import load_config
    from rlkit.app.training import train

    overrides = [f"logdir={tmp_path}", "device=cpu", "env.id=rlkit/GroundhogDay-Easy-v0", "n_envs=2", "total_steps=128",
                 "eval.every=0", "eval.episodes=2", "checkpoint_every=0", "policy.prev_action=true", "policy.prev_reward=true"]  # fmt: skip
    result = train(load_config(overrides=[*overrides, "algo=ppo-seq", "policy.encoder=gru", "policy.encoder_kwargs={hidden_size: 8}",
                                          "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 1, bptt_len: 8}"]))  # fmt: skip
    assert result.status == "finished" and np.isfinite(result.metrics["mean_reward"])
    with pytest.raises(ValueError, match="ppo does not read policy.prev_action; the previous action and reward are inputs of ppo-seq"):
        train(load_config(overrides=[*overrides, "algo=ppo"]))
