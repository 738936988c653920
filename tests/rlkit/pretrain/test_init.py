"""Starting agents from checkpoints: same encoder outputs, BC-initialised PPO acts as the BC policy,
freezing holds the weights, mismatches are refused; end to end through `rlkit.app.training.train`."""

import numpy as np
import pytest
import torch

from rlkit.app.config import ExperimentConfig
from rlkit.nn import load_encoder
from rlkit.pretrain.bc import load_bc, save_bc, train_bc
from rlkit.pretrain.init import policy_encoders
from rlkit.pretrain.seq import save_seq, train_seq
from rlkit.pretrain.vae import save_vae, train_vae
from rlkit.app.env_factory import make_vec_env
from rlkit.app.policy_setup import load_pretrained, with_pretrained_encoder
from rlkit.app.training import train
from rlkit.app.validation import validate


def build(env_id, algo="ppo", n_envs=2, algo_kwargs=None, **policy):
    """The agent `rlkit train` would build (before learning), with policy.* fields set."""
    if algo_kwargs is None:
        algo_kwargs = {"n_steps": 32, "batch_size": 32, "n_epochs": 2}
    config = ExperimentConfig.model_validate(
        {"env": {"id": env_id}, "algo": algo, "n_envs": n_envs, "device": "cpu", "policy": policy, "algo_kwargs": algo_kwargs}
    )
    spec = validate(config)
    config = with_pretrained_encoder(config, spec)
    env = make_vec_env(config)
    model = spec.build(config, env)
    load_pretrained(model, config)
    return model, config


@pytest.fixture(scope="module")
def vae_ckpt(grid_optimal, tmp_path_factory):
    result = train_vae(grid_optimal, "mlp", latent_dim=8, epochs=2, seed=0)
    return save_vae(result, tmp_path_factory.mktemp("vae") / "encoder.pt")


@pytest.fixture(scope="module")
def bc_ckpt(grid_optimal, tmp_path_factory):
    result = train_bc(grid_optimal, "mlp", epochs=40, batch_size=128, learning_rate=3e-3, patience=8, seed=0)
    return result, save_bc(result, tmp_path_factory.mktemp("bc") / "policy.pt")


def test_loaded_encoder_gives_the_pretrained_outputs(vae_ckpt, grid_optimal):
    model, config = build("rlkit/GridWorld-v0", init_encoder=str(vae_ckpt))
    assert config.policy.encoder == "vae" and config.policy.encoder_kwargs == {"latent_dim": 8}
    pretrained = load_encoder(vae_ckpt).eval()
    obs = grid_optimal.observations[:64]
    with torch.no_grad():
        features = model.policy.extract_features(torch.as_tensor(obs), model.policy.features_extractor)
        torch.testing.assert_close(features, pretrained(obs))


def test_bc_initialised_ppo_acts_as_the_bc_policy(bc_ckpt, grid_optimal):
    result, path = bc_ckpt
    model, _ = build("rlkit/GridWorld-v0", init_policy=str(path))
    obs = grid_optimal.observations
    ppo_actions, _ = model.predict(obs, deterministic=True)
    agreement = float(np.mean(ppo_actions == result.policy.predict(obs)))
    assert agreement >= 0.95  # in fact identical: the same tensors
    assert agreement == 1.0
    assert float(np.mean(ppo_actions == grid_optimal.actions)) >= 0.95


def test_bc_initialised_ppo_continuous_matches(hvac_schedule, tmp_path):
    result = train_bc(hvac_schedule, "mlp", epochs=3, seed=0)
    model, _ = build("rlkit/HVAC-v0", init_policy=str(save_bc(result, tmp_path / "p.pt", exploration_std=0.1)))
    obs = hvac_schedule.observations[:200]
    ppo_actions, _ = model.predict(obs, deterministic=True)
    np.testing.assert_allclose(ppo_actions, result.policy.predict(obs), atol=1e-6)
    torch.testing.assert_close(model.policy.log_std.exp().detach(), torch.full((1,), 0.1))


@pytest.mark.parametrize("freeze", [True, False])
def test_freezing_leaves_encoder_weights_unchanged(vae_ckpt, freeze):
    model, _ = build("rlkit/GridWorld-v0", init_encoder=str(vae_ckpt), freeze_encoder=freeze)
    encoder = model.policy.features_extractor.encoder
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    heads_before = model.policy.action_net.weight.detach().clone()
    model.learn(64)  # one rollout and its update
    changed = any(not torch.equal(before[k], v) for k, v in encoder.state_dict().items())
    assert changed is not freeze
    assert not torch.equal(heads_before, model.policy.action_net.weight)  # the heads did train
    if freeze:
        model.policy.train()
        assert not encoder.training  # eval mode survives policy.train()


def test_sequence_encoder_starts_ppo_seq(groundhog_random, tmp_path):
    result = train_seq(groundhog_random, "gru", {"hidden_size": 32}, chunk_len=30, epochs=1, seed=0)
    path = save_seq(result, tmp_path / "encoder.pt")
    model, config = build("rlkit/GroundhogDay-Easy-v0", algo="ppo-seq", init_encoder=str(path), freeze_encoder=True)
    assert config.policy.encoder == "gru" and config.policy.encoder_kwargs == {"hidden_size": 32}
    for k, v in result.model.encoder.state_dict().items():
        torch.testing.assert_close(model.policy.encoder.state_dict()[k], v)
    assert not any(p.requires_grad for p in model.policy.encoder.parameters())
    with pytest.raises(ValueError, match="per-step sequence encoder"):
        build("rlkit/GroundhogDay-Easy-v0", init_encoder=str(path))


@pytest.fixture(scope="module")
def seq_ckpt(groundhog_random, tmp_path_factory):
    result = train_seq(groundhog_random, "gru", {"hidden_size": 16}, chunk_len=30, epochs=1, seed=0)
    return save_seq(result, tmp_path_factory.mktemp("seq") / "encoder.pt")


def _sequence_features(encoder, dataset, steps=40):
    """``encoder``'s features over the dataset's first `steps` steps as one sequence (memory reset at episode starts)."""
    obs = torch.as_tensor(dataset.observations[None, :steps])  # (1, T, *obs_shape)
    starts = dataset.episode_starts[None, :steps].astype(bool)
    with torch.no_grad():
        return encoder(obs, torch.as_tensor(starts), None)[0]


@pytest.mark.parametrize("freeze", [False, True])
def test_init_encoder_loads_both_ppo_seq_encoders(seq_ckpt, groundhog_random, freeze):
    """ppo-seq's critic reads its own encoder: --init-encoder starts it from the checkpoint too, and
    --freeze-encoder freezes it too."""
    model, _ = build("rlkit/GroundhogDay-Easy-v0", algo="ppo-seq", init_encoder=str(seq_ckpt), freeze_encoder=freeze)
    policy = model.policy
    assert [owner for _, owner in policy_encoders(policy)] == [policy, policy]  # encoder, critic_encoder
    expected = _sequence_features(load_encoder(seq_ckpt).eval(), groundhog_random)
    for encoder in (policy.encoder, policy.critic_encoder):
        torch.testing.assert_close(_sequence_features(encoder.eval(), groundhog_random), expected, rtol=0, atol=0)
        assert all(p.requires_grad is not freeze for p in encoder.parameters())


def test_frozen_ppo_seq_encoder_stays_frozen_after_resume(seq_ckpt, signal_at):
    """`rlkit train ppo-seq --init-encoder CKPT --freeze-encoder`, stopped and resumed, trains on with
    both encoders bit-identical to the checkpoint's (and in eval mode) while the heads keep learning."""
    from rlkit.app.config import load_config
    from rlkit.app.training import resume

    logdir = seq_ckpt.parent / "runs"
    config = load_config(overrides=[
        f"logdir={logdir}", "device=cpu", "algo=ppo-seq", "env.id=rlkit/GroundhogDay-Easy-v0", "n_envs=2",
        "total_steps=256", "eval.every=0", "eval.episodes=2", "checkpoint_every=0", f"policy.init_encoder={seq_ckpt}",
        "policy.freeze_encoder=true", "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 2, bptt_len: 8}",
    ])  # fmt: skip
    stopped = train(config, callbacks=[signal_at(128)])
    assert stopped.status == "interrupted" and stopped.checkpoint.step < 256
    heads_at_stop = stopped.model.policy.action_net.weight.detach().clone()
    resumed = resume(stopped.run_dir)
    assert resumed.status == "finished" and resumed.steps == 256
    policy = resumed.model.policy
    pretrained = load_encoder(seq_ckpt).state_dict()
    for encoder in (policy.encoder, policy.critic_encoder):
        state = encoder.state_dict()
        assert state.keys() == pretrained.keys()
        assert all(torch.equal(state[k], v) for k, v in pretrained.items()), "a frozen encoder changed after resume"
        assert not any(p.requires_grad for p in encoder.parameters())
        policy.set_training_mode(True)
        assert not encoder.training  # eval mode survives policy.train()
    assert not torch.equal(heads_at_stop, policy.action_net.weight)  # the resumed run did train


def test_mismatches_are_refused(vae_ckpt, bc_ckpt):
    with pytest.raises(ValueError, match="observation space"):
        build("rlkit/HVAC-v0", init_encoder=str(vae_ckpt))
    with pytest.raises(ValueError, match="drop `policy.encoder`"):
        build("rlkit/GridWorld-v0", init_encoder=str(vae_ckpt), encoder="mlp")
    with pytest.raises(ValueError, match="encoder kwargs"):
        build("rlkit/GridWorld-v0", init_encoder=str(vae_ckpt), encoder_kwargs={"latent_dim": 4})
    with pytest.raises(ValueError, match="give it as `policy.init_policy`"):
        build("rlkit/GridWorld-v0", init_encoder=str(bc_ckpt[1]))
    with pytest.raises(ValueError, match="does not fit"):
        build("rlkit/GridWorld-v0", init_policy=str(bc_ckpt[1]), net_arch={"pi": [32], "vf": [64]})
    with pytest.raises(ValueError, match="freez"):
        build("rlkit/GridWorld-v0", freeze_encoder=True)
    with pytest.raises(ValueError, match="ActorCriticPolicy"):
        build("rlkit/GridWorld-v0", algo="dqn", algo_kwargs={}, init_policy=str(bc_ckpt[1]))


def test_train_end_to_end_with_init_policy(bc_ckpt, tmp_path):
    _, path = bc_ckpt
    config = ExperimentConfig.model_validate(
        {"env": "rlkit/GridWorld-v0", "n_envs": 2, "total_steps": 64, "device": "cpu", "logdir": str(tmp_path),
         "algo_kwargs": {"n_steps": 32, "batch_size": 64, "n_epochs": 1, "learning_rate": 1e-5},
         "eval": {"every": 0, "episodes": 5}, "policy": {"init_policy": str(path)}}  # fmt: skip
    )
    result = train(config)
    assert result.status == "finished"
    assert result.metrics["mean_reward"] > 0.85  # the cloned optimal policy (optimum 0.90), barely changed
    from rlkit.app.run_dir import read_run_config

    saved = read_run_config(result.run_dir)
    assert saved.policy.encoder == "mlp" and saved.policy.init_policy == str(path)


class PendulumTeacher:
    """A state-dependent Pendulum controller whose actions reach both bounds (±2), to clone into SAC/TD3."""

    def reset(self, env, observation, info):
        pass

    def act(self, observation, info):
        return np.clip([3.0 * observation[1] - 0.5 * observation[2]], -2.0, 2.0).astype(np.float32)


@pytest.fixture(scope="module")
def pendulum_teacher():
    import gymnasium as gym

    from rlkit.pretrain import collect

    env = gym.make("Pendulum-v1")
    try:
        return collect(env, PendulumTeacher(), 2000, 0, "Pendulum-v1", {}, "teacher")
    finally:
        env.close()


@pytest.fixture(scope="module")
def squashed_bc(pendulum_teacher, tmp_path_factory):
    result = train_bc(pendulum_teacher, "mlp", net_arch=(32, 32), activation="ReLU", head="squashed", epochs=30,
                      learning_rate=3e-3, patience=10, seed=0)  # fmt: skip
    return result, save_bc(result, tmp_path_factory.mktemp("bc-squashed") / "policy.pt", exploration_std=0.3)


@pytest.mark.parametrize("algo", ["sac", "td3", "ddpg"])
def test_squashed_bc_head_starts_sac_and_td3_acting_as_the_bc_policy(squashed_bc, pendulum_teacher, algo):
    result, path = squashed_bc
    model, _ = build("Pendulum-v1", algo=algo, n_envs=1, algo_kwargs={}, init_policy=str(path), net_arch=[32, 32])
    obs = pendulum_teacher.observations[:300]
    expected = result.policy.predict(obs)
    assert np.abs(expected).max() > 1.0  # beyond tanh's [-1, 1]: the Box's scale is part of the mapping
    actions, _ = model.predict(obs, deterministic=True)
    np.testing.assert_allclose(actions, expected, atol=1e-5)
    assert np.mean((expected - pendulum_teacher.actions[:300]) ** 2) < 0.1  # it did clone (teacher's actions span ±2)
    if algo == "sac":
        # The BC head's distribution is SAC's: the same log-likelihood of the data (BC's is in env units,
        # SAC's in [-1, 1]; the Jacobian of the rescaling is the difference).
        actor = model.policy.actor
        with torch.no_grad():
            mean, log_std, _ = actor.get_action_dist_params(torch.as_tensor(obs))
            scaled = torch.as_tensor(model.policy.scale_action(pendulum_teacher.actions[:300]))
            sac = actor.action_dist.proba_distribution(mean, log_std).log_prob(scaled)
            # The saved policy (its std is exploration_std's 0.3, not the fitted one).
            bc = load_bc(path).log_prob(obs, torch.as_tensor(pendulum_teacher.actions[:300]))
        jacobian = float(np.log(2.0 / 4.0))  # d scaled / d action = 2 / (high - low) for Pendulum's [-2, 2]
        torch.testing.assert_close(bc, sac + jacobian, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(log_std, torch.full_like(log_std, float(np.log(0.3))))
    else:
        actor, target = model.policy.actor, model.policy.actor_target
        assert all(torch.equal(v, target.state_dict()[k]) for k, v in actor.state_dict().items())  # target starts equal


def test_bc_heads_go_only_where_they_fit(squashed_bc, hvac_schedule, grid_optimal, tmp_path):
    gaussian = save_bc(train_bc(hvac_schedule, "mlp", epochs=1, seed=0), tmp_path / "gaussian.pt")
    with pytest.raises(ValueError, match="`head=squashed`"):
        build("rlkit/HVAC-v0", algo="sac", n_envs=1, algo_kwargs={}, init_policy=str(gaussian))
    with pytest.raises(ValueError, match="without `head=squashed`"):
        build("Pendulum-v1", init_policy=str(squashed_bc[1]), net_arch={"pi": [32, 32], "vf": [64]}, activation_fn="ReLU")
    with pytest.raises(ValueError, match="activation_fn=ReLU"):
        build("Pendulum-v1", algo="sac", n_envs=1, algo_kwargs={}, init_policy=str(squashed_bc[1]), net_arch=[32, 32],
              activation_fn="Tanh")  # fmt: skip
    with pytest.raises(ValueError, match="net_arch"):
        build("Pendulum-v1", algo="td3", n_envs=1, algo_kwargs={}, init_policy=str(squashed_bc[1]))
    with pytest.raises(ValueError, match="squashed head .* Box"):
        train_bc(grid_optimal, "mlp", head="squashed", epochs=1)
    with pytest.raises(ValueError, match="uses gSDE .* `algo_kwargs.use_sde=false`"):
        build("rlkit/HVAC-v0", algo_kwargs={"n_steps": 32, "batch_size": 32, "use_sde": True}, init_policy=str(gaussian))
