"""Critic warm-up (`--critic-warmup-steps`): during it the actor (head, log_std, shared encoder) stays
bit-identical while the value function learns, after it both learn; a run stopped inside the warm-up
and resumed equals one trained straight; bad input is refused before anything is written."""

import numpy as np
import pytest
import torch

from agents.pretrained import critic_parameters
from rlkit.app.config import ExperimentConfig, load_config
from rlkit.pretrain.bc import save_bc, train_bc
from rlkit.pretrain.vae import save_vae, train_vae
from rlkit.callbacks import CriticWarmup
from rlkit.app.env_factory import make_vec_env
from rlkit.app.policy_setup import load_pretrained, with_pretrained_encoder
from rlkit.app.training import resume, train
from rlkit.app.validation import validate
from rlkit.tb import read_scalars


def build(env_id, algo="ppo", algo_kwargs=None, **policy):
    """The agent `rlkit train` would build (before learning): 2 envs; PPO rollouts of 2 x 32 = 64 steps."""
    if algo_kwargs is None:
        algo_kwargs = {"n_steps": 32, "batch_size": 32, "n_epochs": 2}
    config = ExperimentConfig.model_validate(
        {"env": {"id": env_id}, "algo": algo, "n_envs": 2, "device": "cpu", "policy": policy, "algo_kwargs": algo_kwargs}
    )
    spec = validate(config)
    config = with_pretrained_encoder(config, spec)
    model = spec.build(config, make_vec_env(config))
    load_pretrained(model, config)
    return model


@pytest.fixture(scope="module")
def hvac_bc(hvac_schedule, tmp_path_factory):
    result = train_bc(hvac_schedule, "mlp", epochs=3, seed=0)
    return save_bc(result, tmp_path_factory.mktemp("bc") / "policy.pt", exploration_std=0.1)


@pytest.fixture(scope="module")
def grid_bc(grid_optimal, tmp_path_factory):
    result = train_bc(grid_optimal, "mlp", epochs=5, seed=0)
    return save_bc(result, tmp_path_factory.mktemp("bc") / "policy.pt")


def _snapshot(policy):
    return {name: p.detach().clone() for name, p in policy.named_parameters()}


def test_warmup_update_moves_the_critic_only_then_both_learn(hvac_bc):
    model = build("rlkit/HVAC-v0", init_policy=str(hvac_bc))
    policy = model.policy
    critic = {id(p) for p in critic_parameters(policy)}
    actor = {name for name, p in policy.named_parameters() if id(p) not in critic}
    # The BC-loaded parts, and the encoder the critic shares with them, are what must not move.
    assert {"log_std", "action_net.weight", "mlp_extractor.policy_net.0.weight"} <= actor
    assert any(name.startswith("features_extractor.") for name in actor)
    assert {"value_net.weight", "mlp_extractor.value_net.0.weight"}.isdisjoint(actor)

    start = _snapshot(policy)
    model.learn(64, callback=CriticWarmup(64, critic_parameters))  # one rollout, one update: inside the warm-up
    warm = _snapshot(policy)
    moved = {name for name in start if not torch.equal(warm[name], start[name])}
    assert moved == set(start) - actor, f"warm-up moved {sorted(moved & actor)} or left {sorted(set(start) - actor - moved)}"
    # Adam never stepped the actor (it skips parameters whose grad is None): no state for them.
    state_of = {id(p): s for p, s in policy.optimizer.state.items()}
    assert all(id(p) not in state_of for name, p in policy.named_parameters() if name in actor)
    assert all(p.requires_grad for p in policy.parameters())  # handed back trainable

    model.learn(64, callback=CriticWarmup(64, critic_parameters), reset_num_timesteps=False)  # the rollout from step 64: after it
    after = _snapshot(policy)
    assert all(not torch.equal(after[name], warm[name]) for name in after), "after the warm-up every parameter learns"


@pytest.fixture(scope="module")
def hvac_squashed_bc(hvac_schedule, tmp_path_factory):
    result = train_bc(hvac_schedule, "mlp", activation="ReLU", head="squashed", epochs=2, seed=0)
    return save_bc(result, tmp_path_factory.mktemp("bc-squashed") / "policy.pt")


@pytest.mark.parametrize("algo", ["sac", "td3"])
def test_warmup_of_an_off_policy_critic_leaves_the_actor_bit_identical(hvac_squashed_bc, algo):
    kwargs = {"learning_starts": 0, "batch_size": 16, **({"ent_coef": 0.01} if algo == "sac" else {"policy_delay": 1})}
    model = build("rlkit/HVAC-v0", algo=algo, algo_kwargs=kwargs, init_policy=str(hvac_squashed_bc), net_arch=[64, 64])
    policy = model.policy
    critic = {id(p) for p in critic_parameters(policy)}
    actor = {name for name, p in policy.named_parameters() if id(p) not in critic}
    assert any(name.startswith("actor.mu") for name in actor) and not any(name.startswith("critic") for name in actor)
    assert any(name.startswith("critic.qf0") for name, p in policy.named_parameters() if id(p) in critic)

    start = _snapshot(policy)
    model.learn(16, callback=CriticWarmup(16, critic_parameters))  # every update inside the warm-up
    warm = _snapshot(policy)
    moved = {name for name in start if not torch.equal(warm[name], start[name])}
    # TD3's target actor is Polyak-averaged with the (unchanged) actor: equal up to rounding, not bit for bit.
    targets = {name for name in actor if name.startswith("actor_target.")}
    assert moved - targets == set(start) - actor, f"warm-up moved {sorted(moved & actor - targets)} or left {sorted(set(start) - actor - moved)}"
    assert all(torch.allclose(warm[name], start[name], rtol=1e-6, atol=1e-7) for name in targets)
    assert not policy.actor.optimizer.state, "Adam stepped the actor during the warm-up"
    assert all(p.requires_grad for p in policy.actor.parameters())  # handed back trainable

    model.learn(16, callback=CriticWarmup(16, critic_parameters), reset_num_timesteps=False)  # after the warm-up the actor learns
    after = _snapshot(policy)
    assert any(not torch.equal(after[name], warm[name]) for name in actor if name.startswith("actor.mu"))


def test_warmup_keeps_a_frozen_encoder_frozen(hvac_bc):
    model = build("rlkit/HVAC-v0", init_policy=str(hvac_bc), freeze_encoder=True)
    encoder = list(model.policy.features_extractor.parameters())
    model.learn(128, callback=CriticWarmup(64, critic_parameters))  # one update in the warm-up, one after it
    assert encoder and not any(p.requires_grad for p in encoder)


def test_resume_inside_the_warmup_equals_training_straight(grid_bc, tmp_path, signal_at):
    """Warm-up over the first 2 of 4 updates; a run stopped after the first (checkpoint at step 64) and
    resumed ends with exactly the parameters and curves of the uninterrupted run, and
    train/critic_warmup marks the updates whose train/ losses it is written with."""
    config = load_config(overrides=[
        f"logdir={tmp_path}", "device=cpu", "env.id=rlkit/GridWorld-v0", "n_envs=2", "total_steps=256",
        "eval.every=0", "eval.episodes=2", "checkpoint_every=0", f"policy.init_policy={grid_bc}",
        "policy.critic_warmup_steps=100", "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 2}",
    ])  # fmt: skip
    straight = train(config)
    stopped = train(config, callbacks=[signal_at(1)])
    assert stopped.status == "interrupted" and stopped.checkpoint.step == 64
    resumed = resume(stopped.run_dir)
    assert resumed.status == "finished" and resumed.steps == 256

    a, b = straight.model.policy.state_dict(), resumed.model.policy.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), "resumed parameters differ"
    for run in (straight, resumed):
        curves = read_scalars(run.run_dir, ["train/critic_warmup", "train/value_loss"])
        steps, flags = curves["train/critic_warmup"]
        # The updates of the rollouts from steps 0 and 64 (< 100) warm up, the one from 128 does not. The
        # last update's losses (rollout 192) are not written: the final evaluation's dump lands on step 256,
        # which SB3's own dump already wrote, and a tag is written once per step (rlkit/tb.py), as in plain SB3.
        np.testing.assert_array_equal(steps, [128, 192, 256])
        np.testing.assert_array_equal(flags, [1, 1, 0])
        np.testing.assert_array_equal(curves["train/value_loss"][0], steps)


def test_warmup_needs_a_policy_with_a_value_function(grid_optimal, tmp_path):
    vae = save_vae(train_vae(grid_optimal, "mlp", latent_dim=4, epochs=1, seed=0), tmp_path / "encoder.pt")
    with pytest.raises(ValueError, match="got a DQNPolicy, which has none"):
        build("rlkit/GridWorld-v0", algo="dqn", algo_kwargs={}, init_encoder=str(vae), critic_warmup_steps=64)
    with pytest.raises(ValueError, match="without `policy.init_policy` or `policy.init_encoder`"):
        build("rlkit/GridWorld-v0", critic_warmup_steps=64)
    with pytest.raises(ValueError, match=r"policy.critic_warmup_steps: Input should be greater than or equal to 0 \(got -1\)"):
        load_config(overrides=["policy.critic_warmup_steps=-1"])
