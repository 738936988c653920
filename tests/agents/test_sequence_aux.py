"""Sequence PPO's auxiliary reward prediction (agents/sequence_aux.py, ``aux_reward_coef``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.sequence_aux import RewardPredictor
from agents.sequence_ppo import SequencePPO
from tests.agents.test_sequence_ppo import ENCODERS, _agent, _collect, _vec


def test_loss_is_the_mean_squared_error_over_the_valid_steps():
    """Oracle: a plain-Python loop over the (B, T) steps, one-hot actions, padding skipped."""
    torch.manual_seed(0)
    space = spaces.Discrete(3)
    head = RewardPredictor(4, space, hidden=5)
    features, actions, rewards = torch.randn(2, 3, 4), torch.tensor([[0, 2, 1], [1, 1, 0]]), torch.randn(2, 3)
    valid = torch.tensor([[True, True, False], [True, False, False]])
    errors = []
    with torch.no_grad():
        expected = head.loss(features, actions, rewards, valid)
    for b in range(2):
        for t in range(3):
            if valid[b, t]:
                x = torch.cat([features[b, t], torch.eye(3)[actions[b, t]]]).detach()
                errors.append((head.net(x).item() - rewards[b, t].item()) ** 2)
    assert float(expected) == pytest.approx(np.mean(errors), rel=1e-6)


@pytest.mark.parametrize("encoder", ENCODERS)
def test_the_loss_trains_the_actors_encoder_and_not_the_critics(encoder):
    model = _agent(encoder, _vec(random_length=True, delay=5), aux_reward_coef=1.0)
    buffer = _collect(model)
    batch = next(iter(buffer.get(4)))
    policy = model.policy
    actions = policy.actions_from_buffer(batch.actions)
    _, _, _, features = policy(batch.observations, batch.episode_starts, batch.states, return_features=True)
    policy.reward_predictor.loss(features, actions, batch.rewards, batch.mask).backward()
    actor = [p.grad for p in policy.encoder.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().max() > 0 for g in actor)
    assert all(p.grad is None or not p.grad.any() for p in policy.critic_encoder.parameters())


def test_training_logs_the_loss_and_lowers_it():
    """On CueEnv the reward (1 if the answer matches the cue shown earlier) is predictable only from memory."""
    model = _agent("gru", _vec(delay=2), aux_reward_coef=1.0, n_epochs=4, learning_rate=3e-3)
    first = _aux_loss(model)
    model.learn(20 * model.n_steps * model.n_envs)
    assert model.logger.name_to_value["train/aux_reward_loss"] > 0
    last = _aux_loss(model)
    assert last < 0.5 * first, (first, last)


def _aux_loss(model):
    """The predictor's loss over one fresh rollout (no update)."""
    buffer = _collect(model)
    total, n = 0.0, 0
    with torch.no_grad():
        for batch in buffer.get(4):
            actions = model.policy.actions_from_buffer(batch.actions)
            _, _, _, features = model.policy(batch.observations, batch.episode_starts, batch.states, return_features=True)
            steps = int(batch.mask.sum())
            total += float(model.policy.reward_predictor.loss(features, actions, batch.rewards, batch.mask)) * steps
            n += steps
    return total / n


def test_coefficient_zero_is_the_agent_without_it():
    def run(**kwargs):
        model = _agent("gru", _vec(random_length=True, delay=5), n_epochs=2, **kwargs)
        model.learn(2 * model.n_steps * model.n_envs)
        return model

    plain, zero = run(), run(aux_reward_coef=0.0)
    assert zero.policy.reward_predictor is None and "train/aux_reward_loss" not in zero.logger.name_to_value
    a, b = plain.policy.state_dict(), zero.policy.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_save_and_load_keep_the_head_and_the_coefficient(tmp_path):
    model = _agent("lstm", _vec(), aux_reward_coef=0.25)
    model.learn(model.n_steps * model.n_envs)
    model.save(tmp_path / "agent.zip")
    loaded = SequencePPO.load(tmp_path / "agent.zip", env=_vec(), device="cpu")
    assert loaded.aux_reward_coef == 0.25 and loaded.policy.reward_predictor is not None
    a, b = model.policy.reward_predictor.state_dict(), loaded.policy.reward_predictor.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"aux_reward_coef": -0.1}, "aux_reward_coef=-0.1; expected a finite number >= 0"),
        ({"aux_reward_coef": float("nan")}, "aux_reward_coef=nan"),
        ({"aux_reward_coef": True}, "aux_reward_coef=True"),
        ({"policy_kwargs": {"aux_reward": True}}, "policy_kwargs aux_reward is set by aux_reward_coef"),
    ],
)
def test_bad_arguments_are_one_line_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        _agent("gru", _vec(), **kwargs)
    assert "\n" not in str(info.value)
