"""rlkit.returns against plain-Python references (random rollouts via hypothesis) and SB3's own GAE."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.buffers import RolloutBuffer

from rlkit.returns import discounted_returns, gae_advantages, lambda_returns, n_step_returns

# --- plain-Python references, in float64, one (step, env) at a time ------------------------------


def _done_after(episode_starts, dones, t, e):
    return bool(dones[e]) if t == len(episode_starts) - 1 else bool(episode_starts[t + 1][e])


def _next_value(values, last_values, t, e):
    return float(last_values[e]) if t == len(values) - 1 else float(values[t + 1][e])


def _bootstrap(values, episode_starts, last_values, dones, truncated, truncation_values, t, e):
    """Value of the next state as the return's tail sees it: V(final obs) if truncated, 0 if terminal."""
    if truncated is not None and truncated[t][e]:
        return float(truncation_values[t][e])
    if _done_after(episode_starts, dones, t, e):
        return 0.0
    return _next_value(values, last_values, t, e)


def ref_gae(rewards, values, episode_starts, last_values, dones, gamma, lam, truncated=None, truncation_values=None):
    n_steps, n_envs = rewards.shape
    advantages = np.zeros((n_steps, n_envs))
    for e in range(n_envs):
        carry = 0.0
        for t in reversed(range(n_steps)):
            boot = _bootstrap(values, episode_starts, last_values, dones, truncated, truncation_values, t, e)
            delta = float(rewards[t, e]) + gamma * boot - float(values[t, e])
            if _done_after(episode_starts, dones, t, e):
                carry = 0.0
            carry = delta + gamma * lam * carry
            advantages[t, e] = carry
    return advantages, advantages + values


def ref_discounted(rewards, episode_starts, last_values, dones, gamma, truncated=None, truncation_values=None):
    n_steps, n_envs = rewards.shape
    out = np.zeros((n_steps, n_envs))
    for e in range(n_envs):
        for t in range(n_steps):
            # Forward sum to the episode's end: sum_k gamma^k r_{t+k} + gamma^m * bootstrap.
            total, discount, j = 0.0, 1.0, t
            while True:
                total += discount * float(rewards[j, e])
                discount *= gamma
                if (truncated is not None and truncated[j][e]) or _done_after(episode_starts, dones, j, e):
                    total += discount * _bootstrap(None, episode_starts, None, dones, truncated, truncation_values, j, e)
                    break
                if j == n_steps - 1:
                    total += discount * float(last_values[e])
                    break
                j += 1
            out[t, e] = total
    return out


def ref_n_step(rewards, values, episode_starts, last_values, dones, gamma, n, truncated=None, truncation_values=None):
    n_steps, n_envs = rewards.shape
    out = np.zeros((n_steps, n_envs))
    for e in range(n_envs):
        for t in range(n_steps):
            total, discount = 0.0, 1.0
            for j in range(t, min(t + n, n_steps)):
                total += discount * float(rewards[j, e])
                discount *= gamma
                ends = (truncated is not None and truncated[j][e]) or _done_after(episode_starts, dones, j, e)
                if ends or j == t + n - 1 or j == n_steps - 1:
                    total += discount * _bootstrap(values, episode_starts, last_values, dones, truncated, truncation_values, j, e)
                    break
            out[t, e] = total
    return out


# --- random rollouts -----------------------------------------------------------------------------


@st.composite
def rollouts(draw, with_truncation: bool = False):
    n_steps = draw(st.integers(1, 24))
    n_envs = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    start_prob = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    rewards = rng.uniform(-5, 5, (n_steps, n_envs)).astype(np.float32)
    values = rng.uniform(-5, 5, (n_steps, n_envs)).astype(np.float32)
    episode_starts = rng.random((n_steps, n_envs)) < start_prob
    if draw(st.booleans()):
        episode_starts = episode_starts.astype(np.float32)  # SB3 stores them as float32
    last_values = rng.uniform(-5, 5, n_envs).astype(np.float32)
    dones = rng.random(n_envs) < start_prob
    gamma = draw(st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]))
    lam = draw(st.sampled_from([0.0, 0.5, 0.95, 1.0]))
    rollout = dict(rewards=rewards, values=values, episode_starts=episode_starts, last_values=last_values, dones=dones)
    if with_truncation:
        done_after = np.concatenate([episode_starts[1:] != 0, dones[None]], axis=0)
        truncated = done_after & (rng.random((n_steps, n_envs)) < 0.5)
        truncation_values = np.where(truncated, rng.uniform(-5, 5, (n_steps, n_envs)), np.nan).astype(np.float32)
        rollout.update(truncated=truncated, truncation_values=truncation_values)
    return rollout, gamma, lam


def _close(actual, expected):
    # float32 kernels vs float64 references over at most 24 steps of |x| <= 5.
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-3)


@settings(max_examples=60, deadline=None)
@given(rollouts(with_truncation=False) | rollouts(with_truncation=True))
def test_gae_matches_python_reference(case):
    rollout, gamma, lam = case
    advantages, returns = gae_advantages(**rollout, gamma=gamma, gae_lambda=lam)
    assert advantages.dtype == np.float32 and returns.dtype == np.float32
    ref_adv, ref_ret = ref_gae(**rollout, gamma=gamma, lam=lam)
    _close(advantages, ref_adv)
    _close(returns, ref_ret)


@settings(max_examples=40, deadline=None)
@given(rollouts(with_truncation=False) | rollouts(with_truncation=True))
def test_discounted_lambda_and_n_step_match_references(case):
    rollout, gamma, lam = case
    no_values = {k: v for k, v in rollout.items() if k != "values"}
    _close(discounted_returns(**no_values, gamma=gamma), ref_discounted(**no_values, gamma=gamma))
    for n in (1, 3, 100):
        _close(n_step_returns(**rollout, gamma=gamma, n=n), ref_n_step(**rollout, gamma=gamma, n=n))
    # lambda-returns are GAE's returns by a different summation; lambda=1 is the discounted return
    # and lambda=0 the one-step TD target.
    _, gae_returns = gae_advantages(**rollout, gamma=gamma, gae_lambda=lam)
    _close(lambda_returns(**rollout, gamma=gamma, lam=lam), gae_returns)
    _, gae_1 = gae_advantages(**rollout, gamma=gamma, gae_lambda=1.0)
    _close(discounted_returns(**no_values, gamma=gamma), gae_1)
    _, gae_0 = gae_advantages(**rollout, gamma=gamma, gae_lambda=0.0)
    _close(n_step_returns(**rollout, gamma=gamma, n=1), gae_0)


def _sb3_buffer(rollout, gamma, lam):
    n_steps, n_envs = rollout["rewards"].shape
    buf = RolloutBuffer(n_steps, spaces.Box(-1, 1, (1,)), spaces.Discrete(2), "cpu", gae_lambda=lam, gamma=gamma, n_envs=n_envs)
    buf.rewards[:] = rollout["rewards"]
    buf.values[:] = rollout["values"]
    buf.episode_starts[:] = rollout["episode_starts"]
    buf.compute_returns_and_advantage(th.as_tensor(rollout["last_values"]), rollout["dones"])
    return buf


@settings(max_examples=40, deadline=None)
@given(rollouts())
def test_gae_is_bit_identical_to_sb3(case):
    rollout, gamma, lam = case
    buf = _sb3_buffer(rollout, gamma, lam)
    advantages, returns = gae_advantages(**rollout, gamma=gamma, gae_lambda=lam)
    np.testing.assert_array_equal(advantages, buf.advantages)
    np.testing.assert_array_equal(returns, buf.returns)


@pytest.mark.parametrize("n_steps, n_envs", [(2048, 8), (128, 64)])
def test_gae_is_bit_identical_to_sb3_at_bench_sizes(n_steps, n_envs):
    rng = np.random.default_rng(n_envs)
    rollout = dict(
        rewards=rng.standard_normal((n_steps, n_envs)).astype(np.float32),
        values=rng.standard_normal((n_steps, n_envs)).astype(np.float32),
        episode_starts=(rng.random((n_steps, n_envs)) < 0.01).astype(np.float32),
        last_values=rng.standard_normal(n_envs).astype(np.float32),
        dones=rng.random(n_envs) < 0.5,
    )
    buf = _sb3_buffer(rollout, 0.99, 0.95)
    advantages, returns = gae_advantages(**rollout, gamma=0.99, gae_lambda=0.95)
    np.testing.assert_array_equal(advantages, buf.advantages)
    np.testing.assert_array_equal(returns, buf.returns)


@settings(max_examples=30, deadline=None)
@given(rollouts(with_truncation=True))
def test_truncation_equals_sb3_reward_folding(case):
    """Explicit truncation bootstrapping == SB3's `reward += gamma * V(terminal_obs)` + terminal step."""
    rollout, gamma, lam = case
    folded = dict(rollout)
    truncated, truncation_values = folded.pop("truncated"), folded.pop("truncation_values")
    folded["rewards"] = (rollout["rewards"] + gamma * np.where(truncated, truncation_values, 0)).astype(np.float32)
    sb3 = _sb3_buffer(folded, gamma, lam)
    advantages, returns = gae_advantages(**rollout, gamma=gamma, gae_lambda=lam)
    _close(advantages, sb3.advantages)
    _close(returns, sb3.returns)


def test_truncated_step_bootstraps_from_its_final_value_not_zero():
    # One env, 3 steps; the episode is cut by a time limit after step 1 and a new one starts at 2.
    rewards = np.array([[1.0], [1.0], [1.0]], np.float32)
    values = np.array([[0.5], [0.5], [7.0]], np.float32)
    episode_starts = np.array([[1], [0], [1]], np.float32)
    last_values, dones = np.array([0.0], np.float32), np.array([True])
    truncated = np.array([[False], [True], [False]])
    truncation_values = np.array([[np.nan], [10.0], [np.nan]], np.float32)
    gamma = 0.9
    g = discounted_returns(rewards, episode_starts, last_values, dones, gamma, truncated=truncated, truncation_values=truncation_values)
    assert g[1, 0] == pytest.approx(1.0 + gamma * 10.0)  # not 1.0 (terminal), not 1 + 0.9 * 7 (next episode)
    assert g[0, 0] == pytest.approx(1.0 + gamma * g[1, 0])
    assert g[2, 0] == pytest.approx(1.0)
    terminal = discounted_returns(rewards, episode_starts, last_values, dones, gamma)
    assert terminal[1, 0] == pytest.approx(1.0)
    adv, _ = gae_advantages(rewards, values, episode_starts, last_values, dones, gamma, 1.0,
                            truncated=truncated, truncation_values=truncation_values)  # fmt: skip
    np.testing.assert_allclose(adv[:, 0], g[:, 0] - values[:, 0], rtol=1e-6)


def test_outputs_written_in_place():
    rng = np.random.default_rng(0)
    r, v = rng.standard_normal((5, 2)).astype(np.float32), rng.standard_normal((5, 2)).astype(np.float32)
    starts, lv, dones = np.zeros((5, 2), np.float32), np.zeros(2, np.float32), np.zeros(2, bool)
    adv_out, ret_out = np.empty_like(r), np.empty_like(r)
    adv, ret = gae_advantages(r, v, starts, lv, dones, advantages_out=adv_out, returns_out=ret_out)
    assert adv is adv_out and ret is ret_out
    np.testing.assert_array_equal(adv, gae_advantages(r, v, starts, lv, dones)[0])


# --- bad input -----------------------------------------------------------------------------------


def _good():
    rng = np.random.default_rng(1)
    return dict(
        rewards=rng.standard_normal((6, 3)).astype(np.float32),
        values=rng.standard_normal((6, 3)).astype(np.float32),
        episode_starts=np.zeros((6, 3), np.float32),
        last_values=np.zeros(3, np.float32),
        dones=np.zeros(3, bool),
    )


def _with(**changes):
    def make():
        kwargs = _good()
        for key, value in changes.items():
            kwargs[key] = value(kwargs) if callable(value) else value
        return kwargs

    return make


def _nan_at(name, index):
    def change(kwargs):
        array = kwargs[name].copy()
        array[index] = np.nan
        return array

    return change


BAD_INPUTS = {
    "float64 rewards": (_with(rewards=lambda k: k["rewards"].astype(np.float64)), ["rewards", "float64", "float32"]),
    "list rewards": (_with(rewards=lambda k: k["rewards"].tolist()), ["rewards", "list"]),
    "1-D rewards": (_with(rewards=lambda k: k["rewards"][:, 0].copy()), ["rewards", "(n_steps, n_envs)"]),
    "values shape": (_with(values=lambda k: k["values"][:5].copy()), ["values", "(5, 3)", "(6, 3)"]),
    "values transposed": (_with(values=lambda k: np.ascontiguousarray(k["values"].T)), ["values", "(3, 6)"]),
    "strided values": (_with(values=lambda k: np.zeros((6, 6), np.float32)[:, ::2]), ["values", "contiguous"]),
    "int episode_starts": (_with(episode_starts=lambda k: k["episode_starts"].astype(np.int64)), ["episode_starts", "int64"]),
    "episode_starts 0.5": (_with(episode_starts=np.full((6, 3), 0.5, np.float32)), ["episode_starts", "0 or 1"]),
    "last_values shape": (_with(last_values=np.zeros(4, np.float32)), ["last_values", "(n_envs,)", "(3,)"]),
    "last_values float64": (_with(last_values=np.zeros(3)), ["last_values", "float64"]),
    "dones shape": (_with(dones=np.zeros(2, bool)), ["dones", "(3,)"]),
    "dones value 2": (_with(dones=np.array([0, 2, 1])), ["dones", "0 and 1"]),
    "NaN reward": (_with(rewards=_nan_at("rewards", (4, 2))), ["rewards", "nan", "step 4, env 2"]),
    "inf value": (_with(values=lambda k: np.where(np.arange(3) == 1, np.inf, k["values"]).astype(np.float32)), ["values", "inf"]),
    "NaN last_values": (_with(last_values=np.array([0, np.nan, 0], np.float32)), ["last_values", "env 1"]),
    "gamma > 1": (_with(gamma=1.5), ["gamma", "[0, 1]"]),
    "truncated alone": (_with(truncated=np.zeros((6, 3), bool)), ["truncation_values", "None"]),
    "truncated where no episode ends": (
        _with(truncated=lambda k: np.eye(6, 3, dtype=bool), truncation_values=np.zeros((6, 3), np.float32)),
        ["truncated", "step 0, env 0", "episode end"],
    ),
    "NaN truncation value where truncated": (
        _with(
            dones=np.array([True, False, False]),
            truncated=lambda k: np.pad(np.array([[True, False, False]]), ((5, 0), (0, 0))),
            truncation_values=np.full((6, 3), np.nan, np.float32),
        ),
        ["truncation_values", "step 5, env 0"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_value_error_naming_the_argument(case):
    make, words = BAD_INPUTS[case]
    kwargs = make()
    with pytest.raises(ValueError) as info:
        gae_advantages(**kwargs)
    message = str(info.value)
    assert message.startswith("gae_advantages: ")
    for word in words:
        assert word in message, (word, message)


_SHARED_CASES = ["float64 rewards", "values shape", "NaN reward", "dones value 2", "truncated where no episode ends"]


@pytest.mark.parametrize(
    "fn, case",
    [(fn, case) for fn in ("discounted_returns", "lambda_returns", "n_step_returns") for case in _SHARED_CASES
     if not (fn == "discounted_returns" and case == "values shape")],  # it takes no values
)  # fmt: skip
def test_every_function_validates(fn, case):
    make, words = BAD_INPUTS[case]
    kwargs = make()
    if fn == "discounted_returns":
        kwargs.pop("values")
    with pytest.raises(ValueError) as info:
        {"discounted_returns": discounted_returns, "lambda_returns": lambda_returns, "n_step_returns": n_step_returns}[fn](**kwargs)
    assert str(info.value).startswith(f"{fn}: ")
    for word in words:
        assert word in str(info.value)


def test_output_aliasing_an_input_is_refused():
    kwargs = _good()
    with pytest.raises(ValueError, match="returns_out shares memory with values"):
        gae_advantages(**kwargs, returns_out=kwargs["values"])
    with pytest.raises(ValueError, match="n=0"):
        n_step_returns(**kwargs, n=0)


def test_bad_input_never_returns_garbage_even_deep_in_the_rollout():
    # A NaN in the last value of one env must not be swallowed by dones (NaN * 0 is NaN).
    kwargs = _good()
    kwargs["dones"] = np.ones(3, bool)
    kwargs["last_values"] = np.array([np.nan, 0, 0], np.float32)
    with pytest.raises(ValueError, match="last_values"):
        gae_advantages(**kwargs)
