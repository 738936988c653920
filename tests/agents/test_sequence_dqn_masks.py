"""dqn-seq honours ``info["action_mask"]``: acting and exploring stay among the allowed actions, the double-DQN
target's next action is the best allowed one (a plain-NumPy reference with a known Q table), the replay stores
the masks the rollout saw and all-ones masks train as no masks (an env without masks trains as before:
tests/agents/test_sequence_offpolicy.py)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv

import agents.sequence_dqn as sequence_dqn
from agents.sequence_dqn import SequenceDQN
from rlkit.app.evaluation import uses_action_masks

N_ACTIONS = 4


class MaskedChoice(gym.Env):
    """Noise observations; each step's ``info["action_mask"]`` allows one random action (or, with
    ``single=False``, a random non-empty set); reward 1 for an allowed action. Logs the mask each step acted
    under and the action taken."""

    def __init__(self, single: bool = True, length: int = 5):
        self.single, self.length = single, length
        self.observation_space = spaces.Box(-10.0, 10.0, (N_ACTIONS,), np.float32)
        self.action_space = spaces.Discrete(N_ACTIONS)
        self.masks, self.actions = [], []

    def _draw(self):
        if self.single:
            self.mask = np.eye(N_ACTIONS, dtype=np.int8)[self.np_random.integers(N_ACTIONS)]
        else:
            self.mask = (self.np_random.random(N_ACTIONS) < 0.5).astype(np.int8)
            self.mask[self.np_random.integers(N_ACTIONS)] = 1
        return self.np_random.normal(size=N_ACTIONS).astype(np.float32), {"action_mask": self.mask.copy()}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._draw()

    def step(self, action):
        self.masks.append(self.mask.astype(bool))
        self.actions.append(int(action))
        reward, self.t = float(self.mask[int(action)]), self.t + 1
        obs, info = self._draw()
        return obs, reward, self.t == self.length, False, info


def _vec(n_envs=2, seed=0, **kwargs):
    env = DummyVecEnv([lambda: MaskedChoice(**kwargs)] * n_envs)
    env.seed(seed)
    return env


def _dqn(env=None, **kwargs):
    policy_kwargs = kwargs.pop("policy_kwargs", {"encoder": "gru", "encoder_kwargs": {"hidden_size": 8}, "net_arch": [16]})
    defaults = dict(learning_starts=16, batch_size=16, seq_len=4, burn_in=2, buffer_size=400, seed=0, device="cpu",
                    target_update_interval=50, exploration_fraction=0.5)  # fmt: skip
    return SequenceDQN("SequencePolicy", env or _vec(), policy_kwargs=policy_kwargs, **{**defaults, **kwargs})


def test_with_one_allowed_action_rollouts_and_predict_always_take_it():
    """Warm-up draws, ε-greedy draws and greedy actions in training, and greedy or exploring ``predict``, all
    take the one allowed action; without the masks ``predict`` does not (so the check can fail)."""
    model = _dqn()
    model.learn(120)  # 60 steps per env: warm-up to 16, ε from 1 down to 0.05 by step 60, then greedy
    for env in model.env.envs:
        assert len(env.actions) == 60
        np.testing.assert_array_equal(env.actions, np.argmax(env.masks, axis=1))
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(64, N_ACTIONS)).astype(np.float32)
    masks = np.eye(N_ACTIONS, dtype=bool)[rng.integers(N_ACTIONS, size=64)]
    model.exploration_rate = 1.0
    for deterministic in (True, False):
        actions, _ = model.predict(obs, episode_start=np.ones(64, bool), deterministic=deterministic, action_masks=masks)
        np.testing.assert_array_equal(actions, masks.argmax(1))
        free, _ = model.predict(obs, episode_start=np.ones(64, bool), deterministic=deterministic)
        assert (free != masks.argmax(1)).any()
    one, _ = model.predict(obs[0], deterministic=True, action_masks=masks[0])  # one observation, a (width,) mask
    assert one == masks[0].argmax()


def test_the_replay_holds_the_masks_the_rollout_acted_under():
    model = _dqn(env=_vec(single=False), buffer_size=1000)
    model.learn(100)
    buffer = model.replay_buffer
    for e, env in enumerate(model.env.envs):
        steps = buffer.steps()
        np.testing.assert_array_equal(buffer.action_masks[:steps, e], np.array(env.masks))
        np.testing.assert_array_equal(buffer.actions[:steps, e], env.actions)
        assert all(env.masks[t][a] for t, a in enumerate(env.actions))
    batch = buffer.sample(8)
    for b in range(8):
        window = np.array(model.env.envs[batch.env[b]].masks)[batch.start[b] : batch.start[b] + buffer.window]
        np.testing.assert_array_equal(batch.action_masks[b, : len(window)].numpy(), window)


def _known_q_agent(monkeypatch, gamma=0.9):
    """A dqn-seq whose online Q of an observation is the observation itself and whose target Q is it times
    `TARGET` (the encoders bypassed: a replayed observation is a row of a Q table)."""
    monkeypatch.setattr(sequence_dqn, "encode", lambda encoder, obs, starts, state, burn_in: obs[:, burn_in:])
    model = _dqn(env=_vec(n_envs=1), gamma=gamma, seq_len=3, burn_in=1, gradient_steps=1,
                 policy_kwargs={"encoder": "gru", "encoder_kwargs": {"hidden_size": N_ACTIONS}, "net_arch": []})  # fmt: skip
    with torch.no_grad():
        for head, weight in ((model.policy.q_head, np.eye(N_ACTIONS)), (model.policy.q_head_target, np.diag(TARGET))):
            head[0].weight.copy_(torch.as_tensor(weight, dtype=torch.float32)), head[0].bias.zero_()
    model.set_logger(Logger(None, []))
    return model


TARGET = np.array([1.0, 2.0, 3.0, 4.0])
Q_TABLE = np.array([[0.5, 0.1, 0.2, 0.3], [0.2, 0.9, 0.4, 0.1], [0.6, 0.3, 0.8, 0.7], [0.9, 0.2, 0.1, 0.4], [0.3, 0.5, 0.7, 0.2]])
MASKS = np.array([[1, 1, 1, 1], [1, 0, 1, 1], [0, 1, 1, 1], [0, 1, 1, 0], [1, 1, 1, 1]], bool)
ACTIONS, REWARDS, TERMINATED = np.array([3, 0, 2, 1, 0]), np.array([0.1, -0.2, 0.3, 0.5, 0.0]), np.zeros(5, bool)


def reference_loss(gamma, masks):
    """Plain NumPy: Huber(Q(s_t, a_t) - r_t - γ Q_target(s_{t+1}, argmax over allowed a of Q(s_{t+1}, a)))
    averaged over the window's training steps 1..3."""
    losses = []
    for t in (1, 2, 3):
        allowed = np.flatnonzero(masks[t + 1]) if masks is not None else np.arange(N_ACTIONS)
        best = allowed[np.argmax(Q_TABLE[t + 1, allowed])]
        error = Q_TABLE[t, ACTIONS[t]] - (REWARDS[t] + gamma * Q_TABLE[t + 1, best] * TARGET[best])
        losses.append(0.5 * error**2 if abs(error) < 1 else abs(error) - 0.5)
    return float(np.mean(losses))


def test_the_double_dqn_target_takes_the_best_allowed_next_action(monkeypatch):
    model = _known_q_agent(monkeypatch)
    for t in range(5):
        model.replay_buffer.add(Q_TABLE[t][None], ACTIONS[t : t + 1], REWARDS[t : t + 1], np.array([t == 0]),
                                TERMINATED[t : t + 1], TERMINATED[t : t + 1], model.policy.initial_state(1), MASKS[t][None])  # fmt: skip
    model.replay_buffer.sample = lambda n: model.replay_buffer.windows(np.zeros(1, np.int64), np.zeros(1, np.int64))
    model.train(1)
    got = model.logger.name_to_value["train/loss"]
    assert reference_loss(0.9, MASKS) != pytest.approx(reference_loss(0.9, None))  # the masks change the target
    assert got == pytest.approx(reference_loss(0.9, MASKS), rel=1e-6)


def _fill(model, masked: bool, steps=40):
    """The same random steps into `model`'s replay, with all-ones masks or none."""
    rng = np.random.default_rng(3)
    n = model.n_envs
    for t in range(steps):
        model.replay_buffer.add(rng.normal(size=(n, N_ACTIONS)), rng.integers(N_ACTIONS, size=n), rng.normal(size=n),
                                np.full(n, t % 7 == 0), np.full(n, t % 7 == 6), np.zeros(n, bool),
                                model.policy.initial_state(n), np.ones((n, N_ACTIONS), bool) if masked else None)  # fmt: skip


def test_all_ones_masks_train_and_act_as_no_masks():
    runs = {}
    for masked in (False, True):
        model = _dqn()
        model.set_logger(Logger(None, []))
        _fill(model, masked)
        assert (model.replay_buffer.action_masks is not None) == masked
        model.train(3)
        obs = np.random.default_rng(4).normal(size=(16, N_ACTIONS)).astype(np.float32)
        kwargs = {"action_masks": np.ones((16, N_ACTIONS), bool)} if masked else {}
        actions, _ = model.predict(obs, episode_start=np.ones(16, bool), deterministic=True, **kwargs)
        runs[masked] = model.policy.state_dict(), actions
    (a, acts_a), (b, acts_b) = runs[False], runs[True]
    assert all(torch.equal(a[k], b[k]) for k in a)
    np.testing.assert_array_equal(acts_a, acts_b)


def test_evaluation_passes_masks_unless_use_action_masks_is_off():
    assert uses_action_masks(_dqn())
    off = _dqn(use_action_masks=False)
    assert not uses_action_masks(off)
    off.learn(40)
    assert off.replay_buffer.action_masks is None
    with pytest.raises(ValueError, match="does not act with masks"):
        off.predict(np.zeros((1, N_ACTIONS), np.float32), action_masks=np.ones((1, N_ACTIONS)))
    with pytest.raises(ValueError, match=r"action_masks has shape \(1, 3\); expected \(1, 4\)"):
        _dqn().predict(np.zeros((1, N_ACTIONS), np.float32), action_masks=np.ones((1, 3)))


def test_rlkit_eval_hands_dqn_seq_the_masks_and_its_actions_keep_to_them():
    """`rlkit.app.evaluation.Evaluator` (``rlkit eval``, and evaluation during training) on GroundhogDay-v0, whose
    mask forbids some place × behaviour pairs: every call gets the copies' masks, and every action is allowed."""
    from rlkit.app.config import load_config
    from rlkit.app.evaluation import Evaluator

    config = load_config(overrides=["algo=dqn-seq", "env.id=rlkit/GroundhogDay-v0", "device=cpu", "eval.deterministic=false"])
    evaluator = Evaluator(config, episodes=2, seed=0)
    model = SequenceDQN("SequencePolicy", evaluator.env, learning_starts=0, seq_len=4, burn_in=0, buffer_size=100, seed=0, device="cpu",
                        policy_kwargs={"encoder": "gru", "encoder_kwargs": {"hidden_size": 8}})  # fmt: skip
    model.exploration_rate = 0.5
    calls, predict = [], model.predict

    def spy(obs, state=None, episode_start=None, deterministic=False, action_masks=None):  # predict's signature
        actions, state = predict(obs, state, episode_start, deterministic, action_masks)
        calls.append((action_masks, actions))
        return actions, state

    model.predict = spy
    evaluator(model)
    evaluator.close()
    assert calls and all(masks is not None for masks, _ in calls)
    assert not calls[0][0].all()  # the env forbids something
    assert all(masks[np.arange(len(actions)), actions].all() for masks, actions in calls)
