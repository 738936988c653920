"""Sequence PPO (agents/sequence_ppo.py): exactness of chunked training, memory resets, masks, autoreset, save/load.

Every test that depends on the encoder is parametrized over ``rlkit.nn.sequence_encoder_names()``, so a
new sequence encoder is tested the moment it is registered. Tiny networks and envs keep this fast.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
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


class CueEnv(gym.Env):
    """Remember the first observation: a cue (one of two) is shown at step 0, then ``delay`` blank steps,
    then a query step where action == cue pays 1, anything else 0. Every observation after the first is
    the same whatever the cue, so a memoryless policy earns 0.5 per episode at best.

    Options for the tests: ``random_length`` draws ``delay`` in [1, delay] per episode (episodes of
    different lengths, so chunks are cut mid-rollout at varied places); ``box_actions`` gives a Box(-1, 1)
    action whose sign is the choice; ``masks`` puts a random ``action_mask`` (never empty) in every info
    and counts actions taken against it in ``violations``; ``time_limit`` truncates (not terminates)
    episodes after that many steps.
    """

    metadata = {"render_modes": []}

    def __init__(self, delay=3, random_length=False, box_actions=False, masks=False, n_actions=2, time_limit=None):
        self.delay, self.random_length, self.masks, self.time_limit = delay, random_length, masks, time_limit
        self.observation_space = spaces.Box(0.0, 1.0, (3,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32) if box_actions else spaces.Discrete(n_actions)
        self.violations = 0

    def _obs(self):
        obs = np.zeros(3, np.float32)
        if self.t == 0:
            obs[self.cue] = 1.0
        if self.t == self.length:
            obs[2] = 1.0
        return obs

    def _info(self):
        if not self.masks:
            return {}
        mask = self.np_random.random(self.action_space.n) < 0.5
        mask[self.np_random.integers(self.action_space.n)] = True
        self.mask = mask.astype(np.int8)
        return {"action_mask": self.mask.copy()}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.cue = int(self.np_random.integers(2))
        self.length = int(self.np_random.integers(1, self.delay + 1)) if self.random_length else self.delay
        self.t = 0
        return self._obs(), self._info()

    def step(self, action):
        if self.masks and not self.mask[int(action)]:
            self.violations += 1
        choice = int(np.asarray(action).reshape(-1)[0] > 0) if isinstance(self.action_space, spaces.Box) else int(action)
        reward = float(self.t == self.length and choice == self.cue)
        terminated = self.t == self.length
        self.t += 1
        truncated = self.time_limit is not None and self.t >= self.time_limit and not terminated
        return self._obs(), reward, terminated, truncated, self._info()


def _vec(n_envs=3, seed=0, **kwargs):
    env = DummyVecEnv([lambda: CueEnv(**kwargs)] * n_envs)
    env.seed(seed)
    return env


def _agent(encoder, env, **kwargs):
    policy_kwargs = {"encoder": encoder, "encoder_kwargs": TINY[encoder], "net_arch": [8], **kwargs.pop("policy_kwargs", {})}
    defaults = dict(n_steps=24, batch_size=24, n_epochs=1, bptt_len=4, seed=0, device="cpu")
    return SequencePPO("SequencePolicy", env, policy_kwargs=policy_kwargs, **{**defaults, **kwargs})


def _collect(model):
    """One rollout into ``model.rollout_buffer`` (as ``learn`` starts it), no update."""
    model._setup_learn(model.n_steps * model.n_envs, None)
    callback = CallbackList([])
    callback.init_callback(model)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)
    return model.rollout_buffer


def _replay(model, buffer):
    """Training-time forward over every chunk: values and log-probs where the chunks are not padding."""
    model.policy.set_training_mode(False)
    values, old_values, log_probs, old_log_probs = [], [], [], []
    with torch.no_grad():
        for batch in buffer.get(5):
            masks = None if batch.action_masks is None else batch.action_masks.bool() | ~batch.mask.unsqueeze(-1)
            dist, v, _ = model.policy(batch.observations, batch.episode_starts, batch.states, masks)
            actions = batch.actions[..., 0].long() if model.policy.discrete else batch.actions
            valid = batch.mask
            values.append(v[valid])
            old_values.append(batch.old_values[valid])
            log_probs.append(dist.log_prob(actions)[valid])
            old_log_probs.append(batch.old_log_prob[valid])
    return torch.cat(values), torch.cat(old_values), torch.cat(log_probs), torch.cat(old_log_probs)


def mean_return(model, episodes=200, seed=123):
    """Mean return of `episodes` CueEnv episodes (delay as trained), deterministic, memory carried by predict."""
    env = _vec(n_envs=episodes, seed=seed, delay=4)
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


# --- exactness ------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("variant", ["discrete", "box", "shared-masked"])
def test_chunked_training_forward_reproduces_rollout_values_and_log_probs(encoder, variant):
    kwargs = {"random_length": True, "delay": 6}
    agent_kwargs = {}
    if variant == "box":
        kwargs["box_actions"] = True
    if variant == "shared-masked":
        kwargs.update(masks=True, n_actions=4)
        agent_kwargs["policy_kwargs"] = {"share_encoder": True}
    model = _agent(encoder, _vec(**kwargs), **agent_kwargs)
    buffer = _collect(model)
    layout = buffer.chunk_layout()
    starts_mid_episode = buffer.episode_starts[layout.start, layout.env] == 0
    assert starts_mid_episode[layout.start > 0].any(), "no chunk starts from a stored mid-episode memory"
    assert buffer.episode_starts[1:].any(), "no episode starts inside the rollout"
    values, old_values, log_probs, old_log_probs = _replay(model, buffer)
    assert len(values) == buffer.buffer_size * buffer.n_envs  # every transition, once
    torch.testing.assert_close(values, old_values, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(log_probs, old_log_probs, atol=1e-5, rtol=1e-5)


@pytest.mark.filterwarnings("error::UserWarning")
def test_a_box_policy_logs_its_std_without_a_torch_warning():
    """train/std is read from the trainable log_std without touching autograd (torch warns on float() of it)."""
    model = _agent("gru", _vec(box_actions=True))
    model.learn(model.n_steps * model.n_envs)
    assert model.logger.name_to_value["train/std"] == pytest.approx(float(torch.exp(model.policy.log_std.detach()).mean()))


@pytest.mark.parametrize("encoder", ENCODERS)
def test_replay_would_notice_wrong_memory(encoder):
    """The exactness check can fail: chunks started from an empty memory give other values mid-episode."""
    model = _agent(encoder, _vec(random_length=True, delay=6))
    buffer = _collect(model)
    for stored in buffer.states:
        stored[:] = 0.0
    values, old_values, _, _ = _replay(model, buffer)
    assert (values - old_values).abs().max() > 1e-4


# --- memory resets --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoder", ENCODERS)
def test_memory_is_reset_where_an_episode_starts(encoder):
    model = _agent(encoder, _vec(random_length=True, delay=6))
    rng = np.random.default_rng(0)
    state = None
    for _ in range(5):  # some history
        _, state = model.predict(rng.random((2, 3), dtype=np.float32), state=state)
    obs = rng.random((2, 3), dtype=np.float32)
    after_history = model.predict(obs, state=state, episode_start=np.array([True, False]), deterministic=True)[1]
    fresh = model.predict(obs, state=None, episode_start=np.array([True, True]), deterministic=True)[1]
    for a, b in zip(after_history, fresh):
        np.testing.assert_allclose(a[0], b[0], atol=1e-6)  # row 0 started over: its history is gone
    assert any(not np.allclose(a[1], b[1], atol=1e-4) for a, b in zip(after_history, fresh))  # row 1 remembers

    # In rollouts: the memory stored at every episode start is the initial (empty) memory.
    buffer = _collect(model)
    starts = buffer.episode_starts.astype(bool)
    initial = [s.numpy()[0] for s in model.policy.initial_state(1)]
    for stored, init in zip(buffer.states, initial):
        np.testing.assert_array_equal(stored[starts], np.broadcast_to(init, stored[starts].shape))
    assert (starts.sum() > 3) and any(np.abs(s[~starts]).max() > 0 for s in buffer.states)


# --- autoreset, truncation, masks -----------------------------------------------------------------


def _buffer_arrays(buffer):
    return {name: getattr(buffer, name).copy() for name in ("observations", "actions", "rewards", "episode_starts", "values")}


@pytest.mark.parametrize("mode", ["next_step", "same_step"])
def test_gymnasium_vector_env_in_any_autoreset_mode_matches_dummy_vec_env(mode):
    """Gymnasium's NEXT_STEP autoreset inserts a reset step (reward 0, no action) after each done: it must
    not be stored or trained on. Same seeds give the same rollout as SB3's DummyVecEnv."""
    from gymnasium.vector import AutoresetMode, SyncVectorEnv

    reference = _collect(_agent("gru", _vec(n_envs=3, seed=5, random_length=True, delay=4)))
    autoreset = AutoresetMode.NEXT_STEP if mode == "next_step" else AutoresetMode.SAME_STEP
    vector_env = SyncVectorEnv([lambda: CueEnv(random_length=True, delay=4)] * 3, autoreset_mode=autoreset)
    vec = SequencePPO._as_vec_env(vector_env)
    vec.seed(5)
    got = _collect(_agent("gru", vec))
    expected = _buffer_arrays(reference)
    for name, array in _buffer_arrays(got).items():
        np.testing.assert_array_equal(array, expected[name], err_msg=name)
    # 0/1 rewards only at query steps: a stored reset step would add a transition with a fresh cue.
    assert reference.episode_starts[1:].sum() > 5


class Infos(BaseCallback):
    def __init__(self):
        super().__init__()
        self.steps = []

    def _on_step(self):
        infos = [dict(i) for i in self.locals["infos"]]
        resets = [dict(r) for r in self.training_env.reset_infos]
        memory = tuple(m.clone() for m in self.locals["new_memory"])
        self.steps.append((infos, self.locals["dones"].copy(), memory, resets))
        return True


@pytest.mark.parametrize("encoder", ["lstm", "transformer"])
def test_truncated_episodes_bootstrap_from_the_final_observation_with_the_memory_after_it(encoder):
    model = _agent(encoder, _vec(delay=6, time_limit=3))  # every episode is cut at step 3
    model._setup_learn(model.n_steps * model.n_envs, None)
    infos = Infos()
    callback = CallbackList([infos])
    callback.init_callback(model)
    model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)
    buffer = model.rollout_buffer
    assert buffer.truncated.sum() >= model.n_envs * (model.n_steps // 3 - 1)
    checked = 0
    for t, (step_infos, dones, memory, _) in enumerate(infos.steps):
        for e in np.flatnonzero(dones):
            assert buffer.truncated[t, e]
            final = torch.as_tensor(step_infos[e]["terminal_observation"]).view(1, 1, 3)
            with torch.no_grad():
                value = model.policy.predict_values(final, torch.zeros(1, 1, dtype=torch.bool), tuple(m[e : e + 1] for m in memory))
            assert buffer.truncation_values[t, e] == pytest.approx(float(value), abs=1e-6)
            checked += 1
    assert checked > 10
    assert np.isnan(buffer.truncation_values[~buffer.truncated]).all()


def test_terminated_episodes_do_not_bootstrap():
    buffer = _collect(_agent("gru", _vec(delay=2)))
    assert buffer.episode_starts[1:].any() and not buffer.truncated.any()


@pytest.mark.parametrize("use_masks", [True, False])
def test_action_masks_from_infos_are_stored_and_obeyed(use_masks):
    model = _agent("lstm", _vec(n_envs=3, masks=True, n_actions=5, random_length=True, delay=3), use_action_masks=use_masks)
    envs = model.get_env().envs
    infos = Infos()
    model.learn(model.n_steps * model.n_envs * 2, callback=infos)
    violations = sum(env.violations for env in envs)
    if not use_masks:
        assert violations > 0 and model.rollout_buffer.action_masks is None  # the check can fail
        return
    assert violations == 0
    # The stored mask of each step is the one the env gave with that observation (its reset info after a done).
    stored = model.rollout_buffer.action_masks  # (n_steps, n_envs, 5), the last rollout
    last = infos.steps[-model.n_steps :]
    after_done = 0
    for t in range(1, model.n_steps):
        step_infos, dones, _, resets = last[t - 1]
        for e in range(model.n_envs):
            source = resets[e] if dones[e] else step_infos[e]
            np.testing.assert_array_equal(stored[t, e], source["action_mask"].astype(bool))
            after_done += int(dones[e])
    assert after_done > 3 and stored.sum() < stored.size  # reset observations were checked; some actions masked


def test_masked_entropy_and_gradients_are_finite():
    from rlkit.distributions import MaskedCategorical

    logits = torch.randn(4, 5, requires_grad=True)
    mask = torch.tensor([[1, 1, 0, 0, 1], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]], dtype=torch.bool)
    dist = MaskedCategorical(logits, mask)
    entropy = dist.entropy()
    np.testing.assert_allclose(entropy[1].item(), 0.0, atol=1e-7)  # one allowed action: certain
    p = torch.softmax(logits.detach()[0, [0, 1, 4]], dim=0)
    np.testing.assert_allclose(entropy[0].item(), float(-(p * p.log()).sum()), rtol=1e-5)
    (entropy.sum() + dist.log_prob(torch.tensor([0, 0, 3, 4])).sum()).backward()
    assert torch.isfinite(logits.grad).all() and (logits.grad[~mask] == 0).all()
    samples = MaskedCategorical(logits.detach().expand(2000, 4, 5), mask.expand(2000, 4, 5)).sample()
    assert mask.expand(2000, 4, 5).gather(-1, samples.unsqueeze(-1)).all()


# --- save / load, registry, bad input -------------------------------------------------------------


@pytest.mark.parametrize("encoder", ENCODERS)
def test_loaded_agent_predicts_the_same_actions_given_the_same_memory(encoder, tmp_path):
    model = _agent(encoder, _vec(random_length=True, delay=5))
    model.learn(model.n_steps * model.n_envs)
    path = tmp_path / "agent.zip"
    model.save(path)
    loaded = get_algo("ppo-seq").load(path, None, "cpu")
    assert isinstance(loaded, SequencePPO) and loaded.policy.encoder_name == encoder
    rng = np.random.default_rng(1)
    state_a = state_b = None
    for step in range(8):
        obs = rng.random((3, 3), dtype=np.float32)
        starts = np.array([step == 0, step % 3 == 0, False])
        torch.manual_seed(step)
        a, state_a = model.predict(obs, state=state_a, episode_start=starts)
        torch.manual_seed(step)
        b, state_b = loaded.predict(obs, state=state_b, episode_start=starts)
        np.testing.assert_array_equal(a, b)
        for x, y in zip(state_a, state_b):
            np.testing.assert_array_equal(x, y)
    # The envs' memory travels with the agent, so training continues where it stopped.
    for x, y in zip(model._last_memory, loaded._last_memory):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.slow  # torch.compile of the Transformer policy: minutes of CPU (it passed the 300 s timeout on a loaded 2-core machine)
def test_compiled_policy_equals_the_eager_one_and_survives_save_and_load(tmp_path):
    """``torch_compile=True`` (the Transformer's option): the same weights give the eager policy's values and
    log-probs, rollouts and chunked training still agree, one update runs, and a loaded agent is compiled again."""
    env = _vec(random_length=True, delay=6)
    compiled = _agent("transformer", env, policy_kwargs={"torch_compile": True})
    eager = _agent("transformer", _vec(random_length=True, delay=6))
    eager.policy.load_state_dict(compiled.policy.state_dict())  # the same keys: compiled in place
    buffer = _collect(compiled)
    values, old_values, log_probs, old_log_probs = _replay(compiled, buffer)
    torch.testing.assert_close(values, old_values, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(log_probs, old_log_probs, atol=1e-5, rtol=1e-5)
    # The eager policy on the compiled one's rollout: the stored values and log-probs are the compiled ones.
    eager_values, stored_values, eager_log_probs, stored_log_probs = _replay(eager, buffer)
    torch.testing.assert_close(eager_values, stored_values, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(eager_log_probs, stored_log_probs, atol=1e-5, rtol=1e-5)

    compiled.learn(compiled.n_steps * compiled.n_envs)
    path = tmp_path / "agent.zip"
    compiled.save(path)
    loaded = get_algo("ppo-seq").load(path, None, "cpu")
    assert loaded.policy.torch_compile and loaded.policy._compiled_call_impl is not None
    obs, starts = np.eye(3, dtype=np.float32), np.ones(3, dtype=bool)
    a, state_a = compiled.predict(obs, episode_start=starts, deterministic=True)
    b, state_b = loaded.predict(obs, episode_start=starts, deterministic=True)
    np.testing.assert_array_equal(a, b)
    for x, y in zip(state_a, state_b):
        np.testing.assert_allclose(x, y, atol=1e-6)


def test_single_observation_and_action_masks_in_predict():
    model = _agent("gru", _vec(masks=True, n_actions=4))
    obs = np.zeros(3, np.float32)
    for allowed in range(4):
        mask = np.eye(4, dtype=bool)[allowed]
        action, state = model.predict(obs, action_masks=mask)
        assert np.ndim(action) == 0 and int(action) == allowed and state[0].shape[0] == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"bptt_len": 0}, "bptt_len=0"),
        ({"batch_size": 1000}, "batch_size=1000 exceeds"),
        ({"policy_kwargs": {"encoder": "mlp"}}, "expected a sequence encoder"),
        ({"policy_kwargs": {"encoder": "lstm", "net_arch": "big"}}, "net_arch='big'"),
    ],
)
def test_bad_arguments_are_one_line_value_errors(kwargs, message):
    policy_kwargs = {"encoder_kwargs": {}, **kwargs.pop("policy_kwargs", {})}
    with pytest.raises(ValueError, match=message) as info:
        SequencePPO("SequencePolicy", _vec(), n_steps=8, policy_kwargs=policy_kwargs, **{"batch_size": 8, **kwargs})
    assert "\n" not in str(info.value)


def test_predict_rejects_a_state_of_the_wrong_size():
    model = _agent("lstm", _vec())
    _, state = model.predict(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="state=None"):
        model.predict(np.zeros((3, 3), np.float32), state=state)


def test_registered_as_ppo_seq_for_discrete_and_box():
    spec = get_algo("ppo-seq")
    assert spec.fits(spaces.Discrete(3)) and spec.fits(spaces.Box(-1, 1, (2,)))
    assert not spec.fits(spaces.Dict({"a": spaces.Discrete(2)}))  # more spaces: test_sequence_spaces.py
    assert {"bptt_len", "n_steps", "batch_size", "use_action_masks"} <= set(spec.valid_kwargs())


def test_same_seed_same_training():
    def run():
        model = _agent("transformer", _vec(random_length=True, delay=5), n_epochs=2)
        model.learn(2 * model.n_steps * model.n_envs)
        return model.policy.state_dict()

    a, b = run(), run()
    assert all(torch.equal(a[k], b[k]) for k in a)


# --- through rlkit's runs: checkpoint, resume, evaluation ----------------------------------------


@pytest.mark.parametrize("encoder", ["gru", "transformer"])
def test_stop_and_resume_equals_training_straight(tmp_path, encoder, signal_at, assert_same_training):
    """``rlkit train ppo-seq`` stopped by Ctrl-C and resumed == trained straight (weights and every curve):
    the envs' memory and action masks are part of the checkpoint."""
    from rlkit.app.config import load_config
    from rlkit.app.training import resume, train

    config = load_config(overrides=[
        f"logdir={tmp_path}", "device=cpu", "algo=ppo-seq", "env.id=rlkit/GroundhogDay-Easy-v0", "n_envs=2",
        "total_steps=256", "eval.every=128", "eval.episodes=2", "checkpoint_every=0", f"policy.encoder={encoder}",
        f"policy.encoder_kwargs={TINY[encoder]}", "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 2, bptt_len: 8}",
    ])  # fmt: skip
    straight = train(config)
    stopped = train(config, callbacks=[signal_at(128)])
    assert straight.status == "finished" and stopped.status == "interrupted"
    resumed = resume(stopped.run_dir)
    assert resumed.status == "finished" and resumed.steps == straight.steps
    assert_same_training(straight, resumed, "resumed", required=("train/value_loss", "rollout/ep_rew_mean"))


# --- learning (slow) ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("agent", [*ENCODERS, "mlp"])
def test_memory_agent_remembers_the_first_observation_and_an_mlp_cannot(agent):
    """On CueEnv (answer the cue shown 4 steps earlier) every sequence encoder reaches a near-perfect
    return in 8k steps, while SB3's MLP PPO, trained alike, stays at chance (0.5): the query-step
    observation is the same whatever the cue."""
    from stable_baselines3 import PPO

    env = _vec(n_envs=8, delay=4)
    common = dict(n_steps=32, batch_size=64, n_epochs=4, learning_rate=3e-3, seed=0, device="cpu")
    if agent == "mlp":
        model = PPO("MlpPolicy", env, policy_kwargs=dict(net_arch=[16]), **common)
    else:
        small = {"lstm": {"hidden_size": 16}, "gru": {"hidden_size": 16}, "tcn": {"channels": 16, "num_blocks": 2},
                 "transformer": {"d_model": 16, "num_heads": 2, "num_layers": 1, "context_len": 8}}  # fmt: skip
        policy_kwargs = dict(encoder=agent, encoder_kwargs=small[agent], net_arch=[16])
        model = SequencePPO("SequencePolicy", env, bptt_len=8, policy_kwargs=policy_kwargs, **common)
    model.learn(8_000 if agent != "mlp" else 16_000)
    score = mean_return(model)
    if agent == "mlp":
        assert 0.4 <= score <= 0.6, f"an MLP cannot beat chance here, got {score}"
    else:
        assert score >= 0.95, f"{agent} should remember the cue, got {score}"
