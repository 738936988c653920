"""experiments/hvac_kpis.py: its baseline rows are the sums of the env's per-step info over the same held-out
episodes, its run row is a direct rollout of the run's loaded policy (VecNormalize statistics, deterministic
actions), and bad input is one line with exit 2."""

import gymnasium as gym
import numpy as np
import pytest

from envs.baselines import load_baseline
from experiments.hvac_kpis import held_out_env, main, run_kpis
from rlkit.app.config import load_config
from rlkit.app.run_dir import load_agent, save_run_config
from rlkit.app.training import train

ENV_ID = "rlkit/HVAC-Setpoint-v0"
EPISODE_DAYS = 1  # 96 steps: the held-out start days are every day of the evaluation weeks (21, 22, …)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("runs")
    config = load_config(overrides=[
        f"env.id={ENV_ID}", f"env.kwargs={{split: train, episode_days: {EPISODE_DAYS}}}", "env.normalize.obs=true",
        "algo=ppo", "n_envs=2", "total_steps=128", "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 1}",
        "eval={every: 0, episodes: 1}", "checkpoint_every=0", f"logdir={logdir}", "device=cpu",
    ])  # fmt: skip
    result = train(config, handle_signals=False)
    assert result.status == "finished" and (result.run_dir / "vecnormalize.pkl").is_file()
    return result.run_dir


def rollout(policy, seed: int, start_day: int) -> dict[str, float]:
    """One held-out episode of a baseline-like `policy`: the sums (and max) of the per-step info."""
    env = gym.make(ENV_ID, split="test", episode_days=EPISODE_DAYS)
    observation, info = env.reset(seed=seed, options={"start_day": start_day})
    policy.reset(env.unwrapped, observation, info)
    sums = {"return": 0.0, "energy_kwh": 0.0, "cost_eur": 0.0, "discomfort_Kh": 0.0, "peak_kw": 0.0}
    done = False
    while not done:
        observation, reward, terminated, truncated, info = env.step(policy.act(observation, info))
        sums["return"] += float(reward)
        sums["energy_kwh"] += info["energy_kwh"]
        sums["cost_eur"] += info["cost"]
        sums["discomfort_Kh"] += info["discomfort_degree_hours"]
        sums["peak_kw"] = max(sums["peak_kw"], info["energy_kwh"] / 0.25)
        done = terminated or truncated
    return sums


def mean_rollouts(policy) -> dict[str, float]:
    episodes = [rollout(policy, 1000 + i, day) for i, day in enumerate((21, 22))]  # the first two held-out days
    return {k: float(np.mean([e[k] for e in episodes])) for k in episodes[0]}


class LoadedPolicy:
    def __init__(self, run_dir):
        self.model, _, _, self.normalize = load_agent(run_dir, device="cpu", env_kwargs={"split": "test"})

    def reset(self, env, observation, info):
        pass

    def act(self, observation, info):
        return self.model.predict(self.normalize.normalize_obs(observation), deterministic=True)[0]


def table_rows(text: str) -> dict[str, list[str]]:
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


def cells_of(k: dict[str, float]) -> list[str]:
    return [f"{k['return']:.3f}", f"{k['energy_kwh']:.2f}", f"{k['cost_eur']:.3f}", f"{k['discomfort_Kh']:.3f}", f"{k['peak_kw']:.3f}"]


def test_rows_are_direct_rollouts_on_the_same_held_out_episodes(run_dir, tmp_path):
    out = tmp_path / "kpis.md"
    assert main([str(run_dir), "--episodes", "2", "--out", str(out)]) == 0
    text = out.read_text()
    assert "seed 1000 + i" in text and "2 distinct: 21, 22" in text
    rows = table_rows(text)
    assert list(rows) == [run_dir.name, "schedule_thermostat", "thermostat"]
    env = gym.make(ENV_ID, split="test", episode_days=EPISODE_DAYS)
    oracle = {name: mean_rollouts(load_baseline(ENV_ID, name, env)) for name in ("schedule_thermostat", "thermostat")}
    for name, expected in oracle.items():
        assert rows[name][:5] == cells_of(expected), name
    reference = oracle["schedule_thermostat"]
    change = 100 * (oracle["thermostat"]["cost_eur"] / reference["cost_eur"] - 1)
    assert rows["thermostat"][5:] == [f"{change:+.1f} %", "no"] and rows["schedule_thermostat"][5:] == ["+0.0 %", "reference"]

    policy = mean_rollouts(LoadedPolicy(run_dir))
    kpis, _ = run_kpis(run_dir, [(1000, 21), (1001, 22)])
    for key, value in policy.items():  # the Evaluator predicts for both episodes in one batch: float rounding only
        assert kpis[key] == pytest.approx(value, rel=1e-6, abs=1e-6), key
    assert [float(c) for c in rows[run_dir.name][:5]] == pytest.approx([float(c) for c in cells_of(policy)], abs=2e-3)
    assert policy["cost_eur"] != pytest.approx(reference["cost_eur"], rel=1e-3)  # a policy of its own, not a baseline


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "kpis.md"
    assert main([str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    hvac, cartpole = tmp_path / "hvac_run", tmp_path / "cartpole_run"
    for folder, env_id in ((hvac, ENV_ID), (cartpole, "CartPole-v1")):
        folder.mkdir()
        save_run_config(load_config(overrides=[f"env.id={env_id}", "env.kwargs={split: train}" if env_id == ENV_ID else "seed=0"]), folder)
    assert held_out_env(hvac).kwargs == {"split": "test"}
    assert main([str(hvac), str(cartpole), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CartPole-v1 is not an HVAC env" in err and not out.exists()
    assert main([str(tmp_path), "--out", str(out)]) == 2
    assert "is not an rlkit run directory" in capsys.readouterr().err and not out.exists()
