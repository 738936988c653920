"""Seed groups and Optuna sweeps (rlkit.app.sweeps, `rlkit train --seeds`, `rlkit sweep`): end to end on tiny budgets.

Oracles: a seed run in a worker process equals `rlkit.app.training.train` of that seed in this process; a
trial's objective is the final evaluation its own run directory holds; the best config is the base
config with the best trial's parameters.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from rlkit.app.cli import main
from rlkit.app.config import load_config
from rlkit.app.run_dir import METRICS_FILE
from rlkit.app.training import train
from rlkit.app.sweeps import (
    BEST_CONFIG_FILE,
    apply_params,
    load_space,
    parse_seeds,
    parse_space,
    run_seeds,
    run_sweep,
    sqlite_url,
    write_best_config,
)

TINY = ["device=cpu", "n_envs=2", "total_steps=192", "eval.every=64", "eval.episodes=2", "checkpoint_every=0",
        "algo=ppo", "env.id=CartPole-v1", "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 2}"]  # fmt: skip

SPACE = {
    "algo_kwargs.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "algo_kwargs.n_epochs": {"type": "int", "low": 1, "high": 3},
    "algo_kwargs.gamma": {"type": "categorical", "choices": [0.9, 0.99]},
}

NAN_ENV = '''
import gymnasium as gym
import numpy as np


class FlakyEnv(gym.Env):
    """Toy: reward = action, 8-step episodes; from step 20 `nan=True` makes the reward NaN, `crash=True` raises."""

    def __init__(self, nan=False, crash=False):
        self.nan, self.crash = nan, crash
        self.observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.t = self.total = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        self.total += 1
        if self.crash and self.total >= 20:
            raise RuntimeError("the env broke")
        reward = float("nan") if self.nan and self.total >= 20 else float(action)
        return np.full(2, self.t / 8, np.float32), reward, self.t >= 8, False, {}


gym.register("Flaky-v0", entry_point=FlakyEnv)
'''


def _config(tmp_path, *overrides):
    return load_config(overrides=[f"logdir={tmp_path / 'runs'}", *TINY, *overrides])


def _write(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --- seeds ------------------------------------------------------------------------------------------


def test_parse_seeds():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,3,7") == [0, 3, 7]
    assert parse_seeds("2-3,9") == [2, 3, 9]
    assert parse_seeds("5") == [5]
    for bad in ("", "a-b", "4-2", "0,0", "-1", "1,,2"):
        with pytest.raises(ValueError, match="--seeds"):
            parse_seeds(bad)


def test_two_seed_group_in_worker_processes_equals_training_each_seed_here(tmp_path):
    config = _config(tmp_path)
    group = run_seeds(config, [0, 1], workers=2, directory=tmp_path / "group")
    assert [r["status"] for r in group.runs] == ["finished", "finished"]
    dirs = [Path(r["run_dir"]) for r in group.runs]
    assert len(set(dirs)) == 2 and all(d.parent == tmp_path / "group" for d in dirs)
    assert [json.loads((d / METRICS_FILE).read_text())["seed"] for d in dirs] == [0, 1]
    # Oracle: the same seed trained in this process gives the same evaluation returns.
    here = train(config.model_copy(update={"seed": 1, "logdir": str(tmp_path / "here")}))
    assert group.runs[1]["metrics"]["returns"] == here.metrics["returns"]
    finals = [r["metrics"]["mean_reward"] for r in group.runs]
    mean, std = group.mean_std()
    assert mean == pytest.approx(sum(finals) / 2) and std == pytest.approx(abs(finals[0] - finals[1]) / 2)


def test_train_seeds_cli_prints_the_group_table_and_curves(tmp_path, capsys):
    code = main(["train", "ppo", "CartPole-v1", "--logdir", str(tmp_path), "--steps", "128", "--n-envs", "2",
                 "--eval-every", "64", "--eval-episodes", "2", "--checkpoint-every", "0", "--device", "cpu",
                 "--set", "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 1}", "--seeds", "3,5", "--workers", "1"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    groups = list(tmp_path.iterdir())
    assert len(groups) == 1 and "__seeds3_5__" in groups[0].name
    runs = sorted(p.name for p in groups[0].iterdir() if p.is_dir())
    assert len(runs) == 2 and "__s3__" in runs[0] and "__s5__" in runs[1]
    assert (groups[0] / "curves.png").is_file()
    finals = [json.loads((groups[0] / r / METRICS_FILE).read_text())["mean_reward"] for r in runs]
    assert f"{sum(finals) / 2:.4g}" in out and "Learning curves" in out and "2 finished" in out


@pytest.mark.parametrize("argv, message", [
    (["--workers", "2"], "--workers applies to several runs"),
    (["--seeds", "0-1", "--seed", "3"], "--seed and --seeds"),
    (["--seeds", "1-0"], "--seeds '1-0'"),
    (["--backend", "local", "--seeds", "0", "--ray-address", "x:1"], "--ray-address needs --backend ray"),
])  # fmt: skip
def test_train_seed_options_errors(tmp_path, capsys, argv, message):
    assert main(["train", "--logdir", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_backend_ray_without_ray_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    assert main(["train", "--logdir", str(tmp_path), "--seeds", "0-1", "--backend", "ray"]) == 2
    assert "pip install 'rlkit[ray]'" in capsys.readouterr().err


# --- search spaces ----------------------------------------------------------------------------------


def test_space_fields_are_checked_against_the_config(tmp_path):
    config = _config(tmp_path)
    assert set(parse_space(SPACE)) == set(SPACE)
    cases = {
        "n_env": "unknown config field 'n_env'; did you mean 'n_envs'?",
        "eval.episode": "did you mean 'eval.episodes'?",
        "eval": "is a group of fields",
        "algo_kwargs.n_step": "ppo does not take algo_kwargs.n_step; did you mean 'n_steps'?",
        "env.kwargs.size": "rejected env kwargs",
    }
    for field, message in cases.items():
        path = _write(tmp_path / "space.yaml", {field: {"type": "int", "low": 1, "high": 4}})
        with pytest.raises(ValueError, match="space.yaml: ") as info:
            load_space(path, config)
        assert message in str(info.value)
    for spec, message in [({"type": "float", "low": 1, "high": 0}, "low < high"), ({"type": "uniform"}, "type: float|int"),
                          ({"type": "categorical", "choices": []}, "non-empty"), ({"type": "float", "low": 0, "high": 1, "log": True}, "low > 0"),
                          ({"type": "int", "low": 1, "high": 3, "lo": 2}, "unknown key(s) lo")]:  # fmt: skip
        with pytest.raises(ValueError, match="x:"):
            parse_space({"x": spec}, "x")
        with pytest.raises(ValueError) as info:
            parse_space({"n_envs": spec})
        assert message in str(info.value)


# --- sweeps -----------------------------------------------------------------------------------------


def _hparams_of(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir))
    accumulator.Reload()
    return accumulator.summary_metadata["_hparams_/experiment"].plugin_data.content


def test_three_trial_sweep_end_to_end(tmp_path):
    config = _config(tmp_path)
    study = run_sweep(config, parse_space(SPACE), 3, tmp_path / "sweep", workers=1, seed=1)
    trials = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(study.trials) == 3 and len(trials) == 3
    for trial in trials:
        run_dir = Path(trial.user_attrs["run_dir"])
        assert run_dir.parent == tmp_path / "sweep" / f"trial_{trial.number:04d}"
        ran = yaml.safe_load((run_dir / "config.yaml").read_text())
        assert ran["algo_kwargs"]["learning_rate"] == trial.params["algo_kwargs.learning_rate"]
        assert b"algo_kwargs.learning_rate" in _hparams_of(run_dir)  # TensorBoard's HParams view
        if trial.state == TrialState.COMPLETE:  # the objective is the run's own final evaluation
            assert trial.value == json.loads((run_dir / METRICS_FILE).read_text())["mean_reward"]
        assert len(trial.intermediate_values) >= 1  # evaluations during training were reported
    best = write_best_config(study, config, tmp_path / BEST_CONFIG_FILE)
    assert best == apply_params(config, study.best_trial.params)
    assert load_config(tmp_path / BEST_CONFIG_FILE) == best


def test_failing_trial_is_recorded_failed_and_the_sweep_goes_on(tmp_path, monkeypatch):
    (tmp_path / "flakyenv.py").write_text(textwrap.dedent(NAN_ENV))
    monkeypatch.syspath_prepend(str(tmp_path))
    config = _config(tmp_path, "env.id=flakyenv:Flaky-v0")
    space = {"env.kwargs.nan": {"type": "categorical", "choices": [False, True]},
             "env.kwargs.crash": {"type": "categorical", "choices": [False, True]}}  # fmt: skip
    directory = tmp_path / "sweep"
    directory.mkdir()
    first = optuna.create_study(study_name="sweep", storage=sqlite_url(directory / "study.db"), direction="maximize")
    for nan, crash in [(True, False), (False, True), (False, False)]:
        first.enqueue_trial({"env.kwargs.nan": nan, "env.kwargs.crash": crash})
    study = run_sweep(config, parse_space(space), 3, directory, workers=1)
    diverged, raised, complete = study.trials
    assert diverged.state == TrialState.FAIL and diverged.user_attrs["status"] == "diverged"
    assert "non-finite reward" in diverged.user_attrs["message"]
    assert raised.state == TrialState.FAIL and raised.user_attrs["message"] == "RuntimeError: the env broke"
    assert complete.state == TrialState.COMPLETE and complete.params == {"env.kwargs.nan": False, "env.kwargs.crash": False}


def test_a_dead_worker_process_fails_its_run_and_the_pool_is_renewed():
    from concurrent.futures.process import BrokenProcessPool

    from rlkit.app.sweeps import make_executor

    executor = make_executor("local", 2)
    try:
        with pytest.raises(BrokenProcessPool):
            executor.submit(os._exit, 3).result(timeout=120)  # as a crash in native code would
        assert executor.submit(parse_seeds, "1-3").result(timeout=120) == [1, 2, 3]
    finally:
        executor.shutdown()


def test_a_killed_sweep_continues_without_repeating_finished_trials(tmp_path):
    # Two evaluations a trial (TINY's eval.every=64 made ten): trials are still long enough to be killed in one.
    config_path = _write(tmp_path / "tiny.yaml", _config(tmp_path, "eval.every=320").to_dict())
    space_path = _write(tmp_path / "tiny.space.yaml", SPACE)
    directory = tmp_path / "sweep"
    argv = [sys.executable, "-m", "rlkit.app.cli", "sweep", "--config", str(config_path), "--space", str(space_path),
            "--trials", "4", "--dir", str(directory), "--no-prune", "--set", "total_steps=640"]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    storage = sqlite_url(directory / "study.db")
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            time.sleep(0.3)
            if process.poll() is not None:
                pytest.fail(f"the sweep ended before it was killed: {process.stdout.read().decode()[-2000:]}")
            try:
                trials = optuna.load_study(study_name="sweep", storage=storage).trials
            except Exception:  # the study is not created yet
                continue
            if sum(t.state == TrialState.COMPLETE for t in trials) >= 2 and trials[-1].state == TrialState.RUNNING:
                break
        else:
            pytest.fail("no two finished trials within 120 s")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
    before = {t.number: t for t in optuna.load_study(study_name="sweep", storage=storage).trials}
    done_before = {n: t for n, t in before.items() if t.state == TrialState.COMPLETE}
    killed = [t for t in before.values() if t.state == TrialState.RUNNING]
    assert len(done_before) >= 2 and len(killed) == 1

    config = load_config(config_path, ["total_steps=640"])
    study = run_sweep(config, load_space(space_path, config), 4, directory, prune=False)
    after = study.trials
    finished = [t for t in after if t.state == TrialState.COMPLETE]
    assert len(finished) == 4
    for number, trial in done_before.items():  # kept as they were, not run again
        assert after[number].value == trial.value and after[number].params == trial.params
        assert len(list((directory / f"trial_{number:04d}").iterdir())) == 1
    # The trial the kill interrupted is failed as stale and run again with its parameters.
    stale = after[killed[0].number]
    assert stale.state == TrialState.FAIL and stale.user_attrs["stale"] is True
    retry = [t for t in after if t.user_attrs.get("retry_of") == stale.number]
    assert len(retry) == 1 and retry[0].params == stale.params and retry[0].state == TrialState.COMPLETE
    assert len(after) == 5
    new = [t for t in after if t.number > max(before) and t.user_attrs.get("retry_of") is None]
    assert new and all(t.params != d.params for t in new for d in done_before.values())  # fresh draws, not the first session's
    # A different search space in the same directory is refused, not mixed in.
    with pytest.raises(ValueError, match="different config or search space"):
        run_sweep(config, parse_space({**SPACE, "n_envs": {"type": "int", "low": 1, "high": 2}}), 5, directory)


@pytest.mark.slow  # two more CLI processes (~25 s on 2 busy cores); the default suite stays under a minute
def test_two_sweep_processes_share_one_study(tmp_path):
    """As two machines given the same --storage would: together they finish the study, no trial twice."""
    config_path = _write(tmp_path / "tiny.yaml", _config(tmp_path).to_dict())
    space_path = _write(tmp_path / "tiny.space.yaml", SPACE)
    storage = sqlite_url(tmp_path / "shared.db")
    # No study yet: both processes create it at the same moment, with the same --sampler-seed.
    processes = {
        name: subprocess.Popen([sys.executable, "-m", "rlkit.app.cli", "sweep", "--config", str(config_path), "--space", str(space_path),
                                "--trials", "8", "--no-prune", "--dir", str(tmp_path / name), "--storage", storage,
                                "--study-name", "shared", "--sampler-seed", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"})
        for name in ("a", "b")
    }  # fmt: skip
    outputs = {name: p.communicate(timeout=240)[0].decode() for name, p in processes.items()}
    assert all(p.returncode == 0 for p in processes.values()), outputs
    study = optuna.load_study(study_name="shared", storage=storage)
    ran = {name: sorted(int(p.name[len("trial_"):]) for p in (tmp_path / name).glob("trial_*")) for name in processes}
    numbers = ran["a"] + ran["b"]
    assert ran["a"] and ran["b"], outputs  # both worked on the study
    assert len(numbers) == len(set(numbers)) and sorted(numbers) == [t.number for t in study.trials]
    # Each process stops once the study holds 8 finished trials; at most the other's trial in flight is extra.
    assert 8 <= len(numbers) <= 9 and all(t.state == TrialState.COMPLETE for t in study.trials)
    draws = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(draws)) == len(draws)  # the same --sampler-seed in both processes, no trial drawn twice
    for name in processes:  # each ends with a best config; trials of both count
        assert (tmp_path / name / BEST_CONFIG_FILE).is_file()
        assert "8 complete" in outputs[name] or "9 complete" in outputs[name]


def test_sweep_cli_writes_best_config_and_top_table(tmp_path, capsys):
    config_path = _write(tmp_path / "tiny.yaml", _config(tmp_path).to_dict())
    space_path = _write(tmp_path / "tiny.space.yaml", {"algo_kwargs.learning_rate": SPACE["algo_kwargs.learning_rate"]})
    directory = tmp_path / "sweep"
    code = main(["sweep", "--config", str(config_path), "--space", str(space_path), "--trials", "2", "--dir", str(directory),
                 "--set", "total_steps=128"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "Best trials" in out and "2 complete" in out
    best = load_config(directory / BEST_CONFIG_FILE)
    study = optuna.load_study(study_name="sweep", storage=sqlite_url(directory / "study.db"))
    assert best.algo_kwargs["learning_rate"] == study.best_params["algo_kwargs.learning_rate"]
    assert best.total_steps == 128 and best.logdir == str(tmp_path / "runs")
    bad = _write(tmp_path / "bad.space.yaml", {"algo_kwargs.learning_rat": SPACE["algo_kwargs.learning_rate"]})
    assert main(["sweep", "--config", str(config_path), "--space", str(bad), "--dir", str(tmp_path / "bad")]) == 2
    assert "did you mean 'learning_rate'" in capsys.readouterr().err


# --- Ray --------------------------------------------------------------------------------------------


@pytest.mark.slow  # starts a local Ray instance (an optional extra): the longest test of the default suite, 147 s on the loaded 2-core machine
def test_ray_backend_seeds_and_sweep(tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'rlkit[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        config = _config(tmp_path)
        group = run_seeds(config, [0, 1], backend="ray", directory=tmp_path / "group")
        here = train(config.model_copy(update={"seed": 0, "logdir": str(tmp_path / "here")}))
        assert group.runs[0]["metrics"]["returns"] == here.metrics["returns"]
        assert [r["status"] for r in group.runs] == ["finished", "finished"]
        study = run_sweep(config, parse_space(SPACE), 2, tmp_path / "sweep", workers=2, backend="ray")
        assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
        for trial in study.trials:
            assert trial.value == json.loads((Path(trial.user_attrs["run_dir"]) / METRICS_FILE).read_text())["mean_reward"]
    finally:
        ray.shutdown()
