"""The off-policy memory agents (agents/sequence_sac.py, agents/sequence_dqn.py): the buffer holds the memory the
policy acted with, save/load, exact resume through rlkit's runs, bad input, and (slow) a cue that only memory recalls."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv

from agents import get_algo
from agents.sequence_dqn import SequenceDQN
from agents.sequence_offpolicy import encode
from agents.sequence_sac import SequenceSAC
from rlkit.app.cli import main

TINY = {
    "lstm": {"hidden_size": 8},
    "gru": {"hidden_size": 8},
    "tcn": {"channels": 8, "num_blocks": 2},
    "transformer": {"d_model": 8, "num_heads": 2, "num_layers": 1, "context_len": 6},
}


class RecallCue(gym.Env):
    """Recall the cue, continuously: a cue of ±1 is shown at step 0, then ``delay`` blank steps, then a query
    step where the reward is ``-(action - cue)²``. Every later observation is the same whatever the cue, so a
    memoryless policy's best is the action 0 (return -1); recalling the cue earns 0."""

    def __init__(self, delay=3, discrete=False):
        self.delay = delay
        self.observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Discrete(2) if discrete else spaces.Box(-1.0, 1.0, (1,), np.float32)

    def _obs(self):
        return np.array([self.cue if self.t == 0 else 0.0, float(self.t == self.delay)], np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.cue, self.t = float(self.np_random.choice([-1.0, 1.0])), 0
        return self._obs(), {}

    def step(self, action):
        a = (2.0 * float(action) - 1.0) if isinstance(self.action_space, spaces.Discrete) else float(np.asarray(action).reshape(-1)[0])
        reward = -((a - self.cue) ** 2) if self.t == self.delay else 0.0
        terminated = self.t == self.delay
        self.t += 1
        return self._obs(), reward, terminated, False, {}


def _vec(n_envs=2, seed=0, **kwargs):
    env = DummyVecEnv([lambda: RecallCue(**kwargs)] * n_envs)
    env.seed(seed)
    return env


def _sac(encoder="gru", env=None, **kwargs):
    policy_kwargs = {"encoder": encoder, "encoder_kwargs": TINY[encoder], "net_arch": [16], **kwargs.pop("policy_kwargs", {})}
    defaults = dict(learning_starts=32, batch_size=32, seq_len=4, burn_in=2, buffer_size=400, seed=0, device="cpu")
    return SequenceSAC("SequencePolicy", env or _vec(), policy_kwargs=policy_kwargs, **{**defaults, **kwargs})


def _dqn(encoder="gru", env=None, **kwargs):
    policy_kwargs = {"encoder": encoder, "encoder_kwargs": TINY[encoder], "net_arch": [16]}
    defaults = dict(learning_starts=32, batch_size=32, seq_len=4, burn_in=2, buffer_size=400, seed=0, device="cpu",
                    target_update_interval=50)  # fmt: skip
    return SequenceDQN("SequencePolicy", env or _vec(discrete=True), policy_kwargs=policy_kwargs, **{**defaults, **kwargs})


def mean_return(model, episodes=100, seed=123, **env_kwargs):
    env = _vec(n_envs=episodes, seed=seed, **env_kwargs)
    obs = env.reset()
    state, starts = None, np.ones(episodes, dtype=bool)
    returns, done = np.zeros(episodes), np.zeros(episodes, dtype=bool)
    while not done.all():
        actions, state = model.predict(obs, state=state, episode_start=starts, deterministic=True)
        obs, rewards, dones, _ = env.step(actions)
        returns += rewards * ~done
        done |= dones
        starts = dones
    return float(returns.mean())


# --- the buffer holds what the policy acted with ------------------------------------------------


@pytest.mark.parametrize("encoder", ["gru", "transformer"])
def test_replayed_windows_give_the_actions_the_policy_took(encoder):
    """After training stops, no weights change: the actor replayed over a sampled window from the stored memory
    (burn-in, then the rest) gives, at every written step, the deterministic action the rollout's memory gives."""
    model = _sac(encoder, learning_starts=10_000)  # no update: the rollout's weights are the replay's
    model.learn(200)
    buffer, policy = model.replay_buffer, model.policy
    batch = buffer.sample(16)
    with torch.no_grad():
        actor_state, _ = policy.split(batch.states)
        features = encode(policy.actor_encoder, batch.observations, batch.episode_starts, actor_state, buffer.burn_in)
        replayed, _ = policy.action_log_prob(features, deterministic=True)  # (B, L + 1, 1)
        # The rollout's memory, step by step from the start of the env's stream.
        obs = torch.as_tensor(buffer.observations)  # (size, n_envs, 2); the buffer has not wrapped
        assert not buffer.full
        memory, acted = policy.initial_state(model.n_envs), []
        for t in range(buffer.pos):
            starts = torch.as_tensor(buffer.episode_starts[t])
            memory = policy.reset_state(memory, starts)
            actions, memory = policy.act(obs[t][:, None], starts[:, None], memory, deterministic=True)
            acted.append(actions)
    acted = torch.stack(acted)  # (T, n_envs, 1)
    valid = batch.valid[:, buffer.burn_in :]
    checked = 0
    for b, i in zip(*np.nonzero(valid.numpy())):
        t = batch.start[b] + buffer.burn_in + i
        torch.testing.assert_close(replayed[b, i], acted[t, batch.env[b]], rtol=1e-5, atol=1e-5)
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("encoder", ["lstm", "gru", "tcn", "transformer"])
def test_batched_replay_of_actor_critic_and_target_equals_each_encoder_alone(encoder):
    """`SequenceSACPolicy.replay` runs the encoders as one batched pass where they stack: the same features as each
    encoder run alone, gradients for the actor and critic only."""
    model = _sac(encoder, learning_starts=10_000)
    model.learn(150)
    policy, buffer = model.policy, model.replay_buffer
    with torch.no_grad():  # a target that differs from the critic, so that a swapped state or weight shows
        for p in policy.critic_target_encoder.parameters():
            p.add_(0.1 * torch.randn_like(p))
    batch = buffer.sample(8)
    policy.set_training_mode(True)
    actor, critic, target = policy.replay(batch.observations, batch.episode_starts, batch.states, buffer.burn_in)
    assert actor.requires_grad and critic.requires_grad and not target.requires_grad
    actor_state, critic_state = policy.split(batch.states)
    for features, module, state in ((actor, policy.actor_encoder, actor_state), (critic, policy.critic_encoder, critic_state),
                                    (target, policy.critic_target_encoder, critic_state)):  # fmt: skip
        alone = encode(module, batch.observations, batch.episode_starts, state, buffer.burn_in)
        torch.testing.assert_close(features, alone, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(critic, target, atol=1e-3)


# --- save / load, registry ---------------------------------------------------------------------------


@pytest.mark.parametrize("agent, encoder", [("sac-seq", "gru"), ("sac-seq", "transformer"), ("dqn-seq", "lstm"), ("dqn-seq", "tcn")])
def test_loaded_agent_predicts_the_same_actions_given_the_same_memory(agent, encoder, tmp_path):
    model = (_sac if agent == "sac-seq" else _dqn)(encoder)
    model.learn(120)
    path = tmp_path / "agent.zip"
    model.save(path)
    loaded = get_algo(agent).load(path, None, "cpu")
    assert type(loaded) is type(model) and loaded.policy.encoder_name == encoder
    rng = np.random.default_rng(1)
    state_a = state_b = None
    for step in range(8):
        obs = rng.uniform(-1, 1, (3, 2)).astype(np.float32)
        starts = np.array([step == 0, step % 3 == 0, False])
        for deterministic in (True, False):
            torch.manual_seed(step)
            np.random.seed(step)
            model.action_space.seed(step)  # dqn-seq's exploration draws its random actions from the space
            a, new_a = model.predict(obs, state=state_a, episode_start=starts, deterministic=deterministic)
            torch.manual_seed(step)
            np.random.seed(step)
            loaded.action_space.seed(step)
            b, new_b = loaded.predict(obs, state=state_b, episode_start=starts, deterministic=deterministic)
            np.testing.assert_array_equal(a, b)
            for x, y in zip(new_a, new_b):
                np.testing.assert_array_equal(x, y)
        state_a, state_b = new_a, new_b
    for x, y in zip(model._last_memory, loaded._last_memory):  # the envs' memory travels with the agent
        np.testing.assert_array_equal(x, y)


def test_registered_for_box_and_discrete_actions():
    sac, dqn = get_algo("sac-seq"), get_algo("dqn-seq")
    assert sac.fits(spaces.Box(-1, 1, (2,))) and not sac.fits(spaces.Discrete(3))
    assert dqn.fits(spaces.Discrete(3)) and not dqn.fits(spaces.Box(-1, 1, (2,)))
    assert sac.off_policy and dqn.off_policy
    assert {"seq_len", "burn_in", "state_stride", "train_freq", "gradient_steps"} <= set(sac.valid_kwargs())
    assert {"seq_len", "burn_in", "exploration_fraction", "target_update_interval"} <= set(dqn.valid_kwargs())


def test_same_seed_same_training():
    def run():
        model = _sac("gru")
        model.learn(150)
        return model.policy.state_dict()

    a, b = run(), run()
    assert all(torch.equal(a[k], b[k]) for k in a)


# Computed at commit time by the code from before dqn-seq read action masks (same arguments, same seed): the actions
# its rollout stored and the sum of |parameters| after 240 steps on RecallCue, an env that gives no masks.
NO_MASK_ACTIONS = (
    "11000111110101110001011001111011111111111111110111111111111111111111111111111111111111111111111111111111111011"
    "11111111111000111111101010110000101101011011111100111111100011111111111111111111111111111111111101111111111111"
    "11111111111111111111"
)
NO_MASK_PARAMETER_SUM = 163.28012148605194


def test_dqn_seq_on_an_env_without_masks_trains_as_before_masks_were_read():
    model = _dqn("gru", learning_starts=32, exploration_fraction=0.5)
    model.learn(240)
    assert model.replay_buffer.action_masks is None and model._last_action_masks is None
    assert "".join(map(str, model.replay_buffer.actions[:120].T.reshape(-1).tolist())) == NO_MASK_ACTIONS
    total = float(sum(v.double().abs().sum() for v in model.policy.state_dict().values()))
    # rel 1e-7, not 1e-9: since the GRU's training recurrence became rlkit.nn.gru_kernels (a float32 polynomial exp,
    # another summation order) the sum differs from that code's by 1.2e-9 relative; a change in what is trained
    # moves it by orders of magnitude more.
    assert total == pytest.approx(NO_MASK_PARAMETER_SUM, rel=1e-7)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: _sac(policy_kwargs={"encoder": "mlp", "encoder_kwargs": {}}), "sac-seq got encoder='mlp'; expected a sequence encoder"),
        (lambda: _sac(env=_vec(discrete=True)), "sac-seq got action space Discrete\\(2\\)"),
        (lambda: _dqn(env=_vec()), "dqn-seq got action space Box"),
        (lambda: _sac(seq_len=0), "seq_len=0"),
        (lambda: _sac(burn_in=-1), "burn_in=-1"),
    ],
)
def test_bad_arguments_are_one_line_value_errors(make, message):
    with pytest.raises(ValueError, match=message) as info:
        make()
    assert "\n" not in str(info.value)


# --- the command line and rlkit's runs ----------------------------------------------------------


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["sac-seq", "Pendulum-v1", "--encoder", "mlp"], "sac-seq got encoder='mlp'; expected a sequence encoder: "),
        (["sac-seq", "CartPole-v1"], "sac-seq cannot act in CartPole-v1's action space Discrete(2)"),
        (["dqn-seq", "Pendulum-v1"], "dqn-seq cannot act in Pendulum-v1's action space Box"),
        (["dqn-seq", "CartPole-v1", "--encoder", "cnn"], "dqn-seq got encoder='cnn'; expected a sequence encoder: "),
    ],
)
def test_bad_input_on_the_command_line_is_one_line_exit_2(train_refuses, argv, expected):
    train_refuses(argv, expected)


RESUME_CASES = {
    "sac-seq-pendulum": ["algo=sac-seq", "env.id=Pendulum-v1", "env.kwargs={max_episode_steps: 50}", "policy.encoder=gru", "policy.encoder_kwargs={hidden_size: 8}",
                         "policy.net_arch=[16]", "algo_kwargs={learning_starts: 64, batch_size: 32, buffer_size: 1000, train_freq: 4, "
                         "seq_len: 4, burn_in: 2}"],
    # GroundhogDay-v0's masks forbid some actions, so the stored masks and the envs' current ones must resume too.
    # Its default 64-step episodes on 2 envs end at the evaluation steps: the agent's own log dump at 256 meets an evaluation's.
    "dqn-seq-groundhog": ["algo=dqn-seq", "env.id=rlkit/GroundhogDay-v0", "policy.encoder=transformer",
                          f"policy.encoder_kwargs={TINY['transformer']}", "policy.net_arch=[16]",
                          "algo_kwargs={learning_starts: 64, batch_size: 32, buffer_size: 1000, train_freq: 4, seq_len: 4, "
                          "burn_in: 2, target_update_interval: 64}"],
}  # fmt: skip


def _config(tmp_path, *overrides):
    from rlkit.app.config import load_config

    return load_config(overrides=[f"logdir={tmp_path / 'runs'}", "device=cpu", "n_envs=2", "eval.every=128",
                                  "eval.episodes=2", "checkpoint_every=0", *overrides])  # fmt: skip


@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_stop_and_resume_equals_training_straight(tmp_path, case, signal_at, assert_same_training):
    """``rlkit train sac-seq|dqn-seq`` stopped by Ctrl-C and resumed == trained straight: weights exactly and every
    curve; the replay buffer (with its generator) and the envs' memory are part of the checkpoint."""
    from rlkit.app.training import resume, train

    config = _config(tmp_path, "total_steps=384", *RESUME_CASES[case])
    straight = train(config)
    stopped = train(config, callbacks=[signal_at(192)])
    assert straight.status == "finished" and stopped.status == "interrupted"
    resumed = resume(stopped.run_dir)
    assert resumed.status == "finished" and resumed.steps == straight.steps
    required = ("train/critic_loss", "train/actor_loss", "train/ent_coef") if "sac" in case else ("train/loss", "rollout/exploration_rate")
    assert_same_training(straight, resumed, "resumed", required=("eval/mean_reward", "rollout/ep_rew_mean", *required))


def test_extending_a_finished_run_equals_training_straight(tmp_path, assert_same_training):
    """N steps to the end, then ``resume(steps=2N)`` == 2N straight."""
    from rlkit.app.training import resume, train

    case = ["eval.every=64", *RESUME_CASES["sac-seq-pendulum"]]  # the short run's final evaluation is a periodic one
    straight = train(_config(tmp_path, "total_steps=384", *case))
    short = train(_config(tmp_path, "total_steps=192", *case))
    extended = resume(short.run_dir, steps=384)
    assert extended.status == "finished" and extended.steps == 384
    assert json.loads((short.run_dir / "metrics.json").read_text())["steps"] == 384
    assert_same_training(straight, extended, "extended", required=("eval/mean_reward", "train/critic_loss"))


# --- learning (slow) ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("agent", ["sac-seq", "sac"])
def test_sac_seq_recalls_the_cue_and_mlp_sac_cannot(agent):
    """RecallCue (answer the cue shown 3 steps earlier with a continuous action): sac-seq (GRU) gets close to the
    best return 0, SB3's SAC with an MLP, trained alike, stays near a memoryless policy's best (-1)."""
    from stable_baselines3 import SAC

    env = _vec(n_envs=4)
    common = dict(learning_starts=200, batch_size=64, learning_rate=3e-3, gamma=0.9, seed=0, device="cpu", train_freq=2)
    if agent == "sac":
        model = SAC("MlpPolicy", env, policy_kwargs=dict(net_arch=[32, 32]), **common)
    else:
        policy_kwargs = dict(encoder="gru", encoder_kwargs={"hidden_size": 16}, net_arch=[32, 32])
        model = SequenceSAC("SequencePolicy", env, seq_len=8, burn_in=0, policy_kwargs=policy_kwargs, **common)
    model.learn(4_000)
    score = mean_return(model)
    if agent == "sac":
        assert score <= -0.8, f"an MLP cannot recall the cue, got {score}"
    else:
        assert score >= -0.2, f"sac-seq should recall the cue, got {score}"


def test_command_line_trains_several_seeds_then_evaluates_and_enjoys(tmp_path, capsys):
    """``rlkit train dqn-seq … --seeds 0-1``, then ``rlkit eval`` and ``rlkit enjoy`` on a run: the memory is carried
    through evaluation and play as for every agent."""
    logdir = tmp_path / "runs"
    argv = ["train", "dqn-seq", "rlkit/GridWorld-v0", "--steps", "128", "--seeds", "0-1", "--workers", "1", "--logdir", str(logdir),
            "--no-progress", "--encoder", "gru", "--env-kwargs", "max_steps=6", "--set", "n_envs=2", "--set", "eval.every=0",
            "--set", "eval.episodes=2", "--set", "policy.encoder_kwargs={hidden_size: 8}",
            "--set", "algo_kwargs={learning_starts: 32, batch_size: 16, seq_len: 4, burn_in: 2, buffer_size: 200}"]  # fmt: skip
    assert main(argv) == 0
    runs = sorted(p.parent for p in logdir.rglob("metrics.json"))  # under the sweep's directory
    assert len(runs) == 2 and {json.loads((p / "metrics.json").read_text())["seed"] for p in runs} == {0, 1}
    capsys.readouterr()
    assert main(["eval", str(runs[0]), "--episodes", "3"]) == 0
    assert "mean" in capsys.readouterr().out
    assert main(["enjoy", str(runs[0]), "--no-delay", "--episodes", "1"]) == 0
    assert "dqn-seq on rlkit/GridWorld-v0: returns " in capsys.readouterr().out
