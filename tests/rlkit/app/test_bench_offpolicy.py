"""`rlkit bench train --suite offpolicy`: sac-seq vs SB3's MLP SAC (a smoke run) and its options' bad input."""

import pytest

from rlkit.app.cli import main


def test_offpolicy_suite_prints_sac_seq_against_sac(capsys):
    argv = ["bench", "train", "--suite", "offpolicy", "--steps", "60", "--repeat", "1", "--width", "8",
            "--seq-len", "4", "--burn-in", "2", "--encoders", "gru", "transformer"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    for text in ("SAC MLP (SB3)", "sac-seq gru", "sac-seq transformer", "cost × SAC", "seq_len 4, burn_in 2"):
        assert text in out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--suite", "vecenv", "--train-freq", "2"], "--train-freq apply to --suite offpolicy only"),
        (["--suite", "memory", "--seq-len", "8"], "--seq-len apply to --suite offpolicy only"),
        (["--suite", "offpolicy", "--bptt-len", "8"], "--bptt-len apply to --suite memory only"),
        (["--suite", "offpolicy", "--gradient-steps", "0"], "--gradient-steps=0"),
    ],
)
def test_options_of_another_suite_are_refused(capsys, argv, expected):
    assert main(["bench", "train", *argv]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1, err
