"""Bad input across the `rlkit` subcommands (from an audit of the CLI): one line on stderr naming what was
wrong and what would be right, exit code 2, no traceback, and nothing written.

Each case would have failed before its fix with a traceback, a message that named the wrong problem
(a directory reported as missing, a bad --device as an unloadable model), a silent fallback
(--epochs 0 trained 20 epochs, --quick overrode --steps), or a file left behind (a sweep's study.db).
"""

from __future__ import annotations

import pytest

from rlkit.app.cli import main


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, gridworld_run):
    """A trained run, a dataset, a file, a directory and sweep files, all outside each test's own tmp_path."""
    root = tmp_path_factory.mktemp("inputs")
    run = gridworld_run
    data = root / "cp.npz"
    assert main(["collect", "CartPole-v1", "--steps", "50", "--out", str(data)]) == 0
    (root / "afile.txt").write_text("not a directory\n")
    (root / "adir").mkdir()
    (root / "c.yaml").write_text("env: CartPole-v1\nn_envs: 2\ntotal_steps: 64\neval: {every: 0, episodes: 1}\n"
                                 "algo_kwargs: {n_steps: 32, batch_size: 32}\n")  # fmt: skip
    (root / "s.space.yaml").write_text("algo_kwargs.learning_rate: {type: float, low: 1.0e-4, high: 1.0e-3}\n")
    return {"run": str(run), "data": str(data), "file": str(root / "afile.txt"), "dir": str(root / "adir"),
            "config": str(root / "c.yaml"), "space": str(root / "s.space.yaml")}  # fmt: skip


SWEEP = ["sweep", "--config", "{config}", "--space", "{space}", "--trials", "1"]

# id -> (argv with {placeholders} from `inputs`, text the error line must contain)
CASES = {
    "train-config-is-a-dir": (["train", "--config", "{dir}"], "config file '{dir}' is a directory; expected a YAML file"),
    "train-logdir-is-a-file": (["train", "ppo", "CartPole-v1", "--logdir", "{file}"], "'{file}' is a file, not a directory"),
    "train-env-kwarg-typo": (["train", "ppo", "rlkit/GridWorld-v0", "--env-kwargs", "sizee=8"],
                             "did you mean 'size'? (rlkit/GridWorld-v0 takes: layout, size,"),
    "train-env-kwargs-example": (["train", "ppo", "CartPole-v1", "--env-kwargs", "size"], "e.g. --env-kwargs size=8"),
    "eval-negative-seed": (["eval", "{run}", "--seed", "-3"], "--seed must be a non-negative integer"),
    "eval-bad-device": (["eval", "{run}", "--device", "bogus"], "device 'bogus' is not a torch device"),
    "enjoy-negative-seed": (["enjoy", "{run}", "--seed", "-1", "--no-delay"], "--seed must be a non-negative integer"),
    "enjoy-zero-fps": (["enjoy", "{run}", "--fps", "0", "--no-delay"], "--fps must be a positive number"),
    "enjoy-negative-fps-gif": (["enjoy", "{run}", "--fps", "-1", "--record", "x.gif"], "--fps must be a positive number"),
    "enjoy-zero-max-steps": (["enjoy", "{run}", "--max-steps", "0", "--no-delay"], "--max-steps must be a positive integer"),
    "enjoy-bad-device": (["enjoy", "{run}", "--device", "bogus"], "device 'bogus' is not a torch device"),
    "collect-negative-seed": (["collect", "rlkit/GridWorld-v0", "--steps", "10", "--out", "d.npz", "--seed", "-1"],
                              "--seed must be a non-negative integer"),
    "collect-stochastic-random": (["collect", "rlkit/GridWorld-v0", "--steps", "10", "--out", "d.npz", "--stochastic"],
                                  "--stochastic applies to a run directory's policy"),
    "collect-policy-is-a-file": (["collect", "rlkit/GridWorld-v0", "--steps", "10", "--out", "d.npz", "--policy", "{file}"],
                                 "--policy '{file}' is a file, not a run directory"),
    "collect-out-under-a-file": (["collect", "rlkit/GridWorld-v0", "--steps", "10", "--out", "{file}/d.npz"],
                                 "'{file}' is a file, not a directory"),
    "pretrain-data-is-a-dir": (["pretrain", "bc", "{dir}"], "dataset '{dir}' is a directory"),
    "pretrain-zero-epochs": (["pretrain", "bc", "{data}", "--epochs", "0"], "--epochs must be a positive integer, got 0"),
    "pretrain-zero-batch": (["pretrain", "bc", "{data}", "--batch-size", "0"], "--batch-size must be a positive integer, got 0"),
    "pretrain-net-arch-text": (["pretrain", "bc", "{data}", "--net-arch", "64,abc"], "--net-arch '64,abc': expected comma-separated"),
    "pretrain-net-arch-zero": (["pretrain", "bc", "{data}", "--net-arch", "0"], "--net-arch '0': expected comma-separated positive"),
    "pretrain-negative-seed": (["pretrain", "bc", "{data}", "--seed", "-1"], "--seed must be a non-negative integer"),
    "pretrain-bad-device": (["pretrain", "bc", "{data}", "--device", "bogus"], "device 'bogus' is not a torch device"),
    "pretrain-logdir-is-a-file": (["pretrain", "bc", "{data}", "--logdir", "{file}"], "'{file}' is a file, not a directory"),
    "curves-png-suffix": (["curves", "{run}", "--png", "out.txt"], "--png 'out.txt': expected a file name ending in .png"),
    "curves-png-under-a-file": (["curves", "{run}", "--png", "{file}/x.png"], "'{file}' is a file, not a directory"),
    "sweep-space-is-a-dir": (["sweep", "--config", "{config}", "--space", "{dir}"], "search space file '{dir}' is a directory"),
    "sweep-zero-workers": ([*SWEEP, "--workers", "0"], "--workers must be a positive integer, got 0"),
    "sweep-bad-storage": ([*SWEEP, "--storage", "bogus://x"], "--storage 'bogus://x': cannot open it"),
    "sweep-storage-password": ([*SWEEP, "--storage", "postgresql+nosuchdriver://u:secret@h/db"], "u:***@h/db"),
    "sweep-negative-sampler-seed": ([*SWEEP, "--sampler-seed", "-1"], "--sampler-seed must be a non-negative integer"),
    "sweep-zero-top": ([*SWEEP, "--top", "0"], "--top must be a positive integer, got 0"),
    "sweep-dir-is-a-file": ([*SWEEP, "--dir", "{file}"], "'{file}' is a file, not a directory"),
    "train-learning-rate-word": (["train", "ppo", "CartPole-v1", "--steps", "64", "--set", "algo_kwargs.learning_rate=fast"],
                                 "algo_kwargs.learning_rate: 'fast' is neither a number nor a schedule"),
    "bench-nn-zero-batch": (["bench", "nn", "--batch", "0"], "bench nn: --batch=0"),
    "bench-envs-steps-beat-quick": (["bench", "envs", "--quick", "--steps", "0"], "bench envs: --steps=0"),
    "bench-train-steps-beat-quick": (["bench", "train", "--quick", "--steps", "-1"], "bench train: --steps=-1"),
    "bench-train-memory-option": (["bench", "train", "--width", "8"], "--width apply to --suite memory only"),
    "bench-memory-zero-bptt": (["bench", "train", "--suite", "memory", "--bptt-len", "0"], "--bptt-len=0 must all be >= 1"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(case, inputs, tmp_path, monkeypatch, capsys):
    argv, expected = CASES[case]
    monkeypatch.chdir(tmp_path)  # relative outputs (d.npz, sweeps/, runs/) would land here
    code = main([arg.format(**inputs) for arg in argv])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert expected.format(**inputs) in err, err
    assert not list(tmp_path.iterdir())


def test_storage_error_without_a_parsable_url_is_still_one_line(inputs, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([arg.format(**inputs) for arg in SWEEP] + ["--storage", "not a url"]) == 2
    err = capsys.readouterr().err
    assert "--storage 'not a url': cannot open it" in err and "sqlite:///" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())



@pytest.mark.parametrize("argv", [
    ["collect", "rlkit/GridWorld-v0", "--steps", "10", "--out", "{file}/d.npz"],
    ["collect", "rlkit/GridWorld-v0", "--steps", "10", "--out", "{npz_dir}"],
    ["enjoy", "{run}", "--record", "{file}/x.gif"],
    ["enjoy", "{run}", "--record", "{gif_dir}"],
])  # fmt: skip
def test_unwritable_outputs_are_refused_before_the_work(argv, inputs, tmp_path_factory, tmp_path, monkeypatch, capsys):
    """The rollouts (collect) or the episodes (enjoy) never start: they would fail the test if they did."""
    import rlkit.pretrain.dataset
    import rlkit.app.run_dir

    def must_not_run(*args, **kwargs):
        raise AssertionError("the work started before the output path was checked")

    monkeypatch.setattr(rlkit.pretrain.dataset, "collect", must_not_run)
    monkeypatch.setattr(rlkit.app.run_dir, "load_agent", must_not_run)
    dirs = tmp_path_factory.mktemp("outputs")  # directories where the output files would go
    (dirs / "d.npz").mkdir()
    (dirs / "x.gif").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main([arg.format(**inputs, npz_dir=dirs / "d.npz", gif_dir=dirs / "x.gif") for arg in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("is a file, not a directory" in err or "is a directory; give a file name" in err), err
    assert not list(tmp_path.iterdir())
