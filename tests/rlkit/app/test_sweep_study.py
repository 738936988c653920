"""Sweeps shared between processes, and pruning (issue 21 item 8): a second process opening a new study while the
first creates it waits instead of failing (sqlite3.IntegrityError on alembic_version); two processes continuing
one study with the same --sampler-seed draw different parameters (trial N is drawn with seed + N, recorded);
a trial that trained every step is complete, not pruned."""

import optuna
import pytest
import sqlalchemy.exc
from optuna.trial import TrialState

from rlkit.app.config import load_config
from rlkit.app.sweeps import make_storage, parse_space, run_sweep, sqlite_url
from rlkit.app.sweeps import study as study_module

SPACE = parse_space({
    "algo_kwargs.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "algo_kwargs.n_epochs": {"type": "int", "low": 1, "high": 20},
})  # fmt: skip


def test_a_storage_another_process_is_creating_is_opened_after_a_wait(tmp_path, monkeypatch):
    real, calls = optuna.storages.RDBStorage, []

    def racing(*args, **kwargs):  # the other process wins the race for the schema's version row, once
        calls.append(1)
        if len(calls) == 1:
            raise sqlalchemy.exc.IntegrityError("INSERT INTO alembic_version", {}, Exception("UNIQUE constraint failed: alembic_version.version_num"))
        return real(*args, **kwargs)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    storage = make_storage(sqlite_url(tmp_path / "study.db"))
    assert len(calls) == 2 and isinstance(storage, real)


def test_a_storage_that_keeps_failing_is_one_line(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError("CREATE TABLE", {}, Exception("disk I/O error"))

    monkeypatch.setattr(optuna.storages, "RDBStorage", broken)
    monkeypatch.setattr(study_module.time, "sleep", lambda s: None)
    with pytest.raises(ValueError, match=r"--storage .*: cannot open it \(.*disk I/O error"):
        make_storage(sqlite_url(tmp_path / "study.db"))


def _handle(storage_url, name="s"):
    """The study as one sweep process sees it."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(study_name=name, storage=make_storage(storage_url), direction="maximize", load_if_exists=True)


def test_two_processes_with_the_same_sampler_seed_draw_different_parameters(tmp_path):
    config = load_config(overrides=["env.id=CartPole-v1"])
    url = sqlite_url(tmp_path / "study.db")
    first, second = _handle(url), _handle(url)  # two processes, one study, both --sampler-seed 0
    trials = [study_module._ask(handle, SPACE, config, tmp_path, 0, f"host:{pid}") for pid, handle in ((1, first), (2, second))]
    (a, config_a), (b, config_b) = trials
    assert a.number != b.number and a.params != b.params
    assert config_a.algo_kwargs != config_b.algo_kwargs
    assert [t.user_attrs["sampler_seed"] for t in (a, b)] == [a.number, b.number]
    # The draws are reproducible: trial N of a new study with seed s draws what trial N drew before.
    again = _handle(sqlite_url(tmp_path / "again.db"))
    redo = [study_module._ask(again, SPACE, config, tmp_path, 0, "host:3")[0] for _ in range(2)]
    assert [t.params for t in redo] == [a.params, b.params]


class _AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


def test_a_trial_that_trained_every_step_is_complete_not_pruned(tmp_path, monkeypatch):
    """Its only evaluation is at the last step, where the pruner says prune: the run had already finished."""
    monkeypatch.setattr(study_module, "make_pruner", lambda prune: _AlwaysPrune())
    config = load_config(overrides=[f"logdir={tmp_path / 'runs'}", "device=cpu", "env.id=CartPole-v1", "n_envs=2", "total_steps=64",
                                    "eval.every=64", "eval.episodes=2", "checkpoint_every=0",
                                    "algo_kwargs={n_steps: 32, batch_size: 32, n_epochs: 1}"])  # fmt: skip
    study = run_sweep(config, SPACE, 1, tmp_path / "sweep", workers=1)
    (trial,) = study.trials
    assert trial.state == TrialState.COMPLETE and trial.user_attrs["status"] == "finished"
    assert list(trial.intermediate_values) == [64]  # the evaluation was reported to the pruner
