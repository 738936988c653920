"""rlkit.app.curves: runs at any depth (--seeds groups, sweeps), one panel per env, legends that say what differs.

Before (issue 21 item 1) `rlkit curves` looked one level down only: a --seeds group folder said "no TensorBoard
event files", a folder with plain runs and a group silently left the group's runs out, and every env shared one axis.
"""

import numpy as np
import pytest
import yaml
from torch.utils.tensorboard import SummaryWriter

from rlkit.app.cli import main
from rlkit.app.curves import find_runs, group_curves, read_curves


def _run(directory, env="CartPole-v1", algo="ppo", seed=0, values=(1.0, 2.0), **extra):
    directory.mkdir(parents=True)
    config = {"env": {"id": env}, "algo": algo, "seed": seed, "logdir": str(directory.parent), **extra}
    (directory / "config.yaml").write_text(yaml.safe_dump(config))
    (directory / "checkpoints").mkdir()  # a run's own subdirectory is never taken for a run
    writer = SummaryWriter(str(directory))
    for step, value in zip((100, 200), values):
        writer.add_scalar("eval/mean_reward", value, step)
    writer.close()
    return directory


@pytest.fixture
def mixed(tmp_path):
    """runs/: a plain run, a --seeds group (two levels down) and a sweep (three levels down)."""
    root = tmp_path / "runs"
    plain = _run(root / "CartPole-v1__ppo__default__s0__t1")
    group = [_run(root / "CartPole-v1__a2c__default__seeds0-1__t2" / f"CartPole-v1__a2c__default__s{s}__t2", algo="a2c", seed=s)
             for s in (0, 1)]  # fmt: skip
    sweep = [_run(root / "sweep" / f"trial_{i:04d}" / f"rlkit-GridWorld-v0__ppo__default__s0__t{i}", env="rlkit/GridWorld-v0",
                  algo_kwargs={"learning_rate": lr}) for i, lr in enumerate((0.001, 0.0003))]  # fmt: skip
    (root / "sweep" / "study.db").write_bytes(b"")
    return root, [plain, *group, *sweep]


def test_runs_are_found_at_any_depth(mixed):
    root, runs = mixed
    assert find_runs([root]) == sorted(runs)
    assert find_runs([runs[1].parent]) == runs[1:3]  # a --seeds group folder on its own
    assert find_runs([root / "sweep"]) == runs[3:]


def test_a_folder_without_runs_is_refused(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    with pytest.raises(ValueError, match="no TensorBoard event files in .* or the run directories below it"):
        find_runs([tmp_path])


def test_the_table_lists_every_run(mixed, capsys):
    root, runs = mixed
    assert main(["curves", str(root)]) == 0
    out = capsys.readouterr().out
    assert all(run.name in out for run in runs)


def test_groups_know_their_env_and_what_differs(mixed):
    root, runs = mixed
    groups = group_curves(read_curves(find_runs([root])))
    legends = {(g["env"], g["legend"]): g["runs"] for g in groups}
    assert legends == {
        ("CartPole-v1", "algo=ppo"): 1,
        ("CartPole-v1", "algo=a2c"): 2,  # the seed group is one curve
        ("rlkit/GridWorld-v0", "algo_kwargs.learning_rate=0.001"): 1,
        ("rlkit/GridWorld-v0", "algo_kwargs.learning_rate=0.0003"): 1,
    }
    a2c = next(g for g in groups if g["legend"] == "algo=a2c")
    np.testing.assert_array_equal(a2c["mean"], [1.0, 2.0])


def test_the_plot_has_one_panel_per_env(mixed, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    root, _ = mixed
    panels = []
    original = plt.Figure.savefig

    def spy(fig, *args, **kwargs):
        panels.extend((ax.get_title(), sorted(t.get_text() for t in ax.get_legend().get_texts())) for ax in fig.axes if ax.get_visible())
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(plt.Figure, "savefig", spy)
    png = tmp_path / "c.png"
    assert main(["curves", str(root), "--png", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    assert panels == [
        ("CartPole-v1", ["algo=a2c (2 runs)", "algo=ppo (1 run)"]),
        ("rlkit/GridWorld-v0", ["algo_kwargs.learning_rate=0.0003 (1 run)", "algo_kwargs.learning_rate=0.001 (1 run)"]),
    ]


def test_long_values_that_differ_only_at_the_end_stay_apart_in_the_legend(tmp_path):
    """Two GAIL runs whose demos lie in one deep folder: cut at 40 characters from the start, both legends read the
    same folder name."""
    folder = "/work/runs/gail/cartpole/expert_demos_of_the_ppo_demonstrator"
    root = tmp_path / "runs"
    for n in (10, 50):
        _run(root / f"CartPole-v1__gail-ppo__default__s0__t{n}", algo="gail-ppo", gail={"demos": f"{folder}/demos_{n}.npz"})
    legends = sorted(g["legend"] for g in group_curves(read_curves(find_runs([root]))))
    assert legends == ["gail.demos=...10.npz", "gail.demos=...50.npz"]


def test_a_legend_naming_many_differing_settings_wraps_inside_the_panel(tmp_path):
    """Runs that differ in five hyperparameters: the legend names every one, a line of at most 49 characters each
    (48 and the comma), instead of one 150-character line that ran off the plot."""
    root = tmp_path / "runs"
    kwargs = ("learning_rate", "n_steps", "batch_size", "gae_lambda", "clip_range")
    for i, scale in enumerate((1, 2)):
        _run(root / f"CartPole-v1__ppo__default__s0__t{i}", algo_kwargs={k: 0.001 * scale * (j + 1) for j, k in enumerate(kwargs)})
    for group in group_curves(read_curves(find_runs([root]))):
        lines = group["legend"].split("\n")
        assert len(lines) > 1 and max(map(len, lines)) <= 49, group["legend"]
        assert all(f"algo_kwargs.{k}=" in group["legend"] for k in kwargs)
