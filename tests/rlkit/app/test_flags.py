"""Library errors name config fields in backticks; the CLI shows the options that set them."""

import pytest

from rlkit.app.flags import FIELD_FLAGS, KWARG_FLAGS, with_flags


@pytest.mark.parametrize(
    "message, shown",
    [
        ("got both `policy.init_encoder` and `policy.init_policy`", "got both --init-encoder and --init-policy"),
        ("or give `policy.encoder=vae`", "or give --encoder vae"),
        ("got `policy.critic_warmup_steps` 1000 without `policy.init_policy`", "got --critic-warmup-steps 1000 without --init-policy"),
        ("use `algo_kwargs.use_sde=false`", "use --algo-kwargs use_sde=false"),
        ("see `algo_kwargs.n_steps`", "see --algo-kwargs n_steps"),
        ("use `policy.activation_fn=Tanh`", "use --set policy.activation_fn=Tanh"),
        ("use `policy.net_arch={pi: [64], vf: [64, 64]}`", "use --set policy.net_arch='{pi: [64], vf: [64, 64]}'"),
        ("got `encoder=cnn` for images; use `head=squashed`", "got --encoder cnn for images; use --head squashed"),
        ("collect some with `rlkit collect`", "collect some with `rlkit collect`"),  # a command, not a field
        ("`policy.net_arch` does not fit", "`policy.net_arch` does not fit"),  # no option of its own, no value to --set
        ("policy.init_policy: Input should be a string", "policy.init_policy: Input should be a string"),  # not marked
    ],
)
def test_marked_fields_become_options(message, shown):
    assert with_flags(message) == shown


def test_every_option_exists_on_its_command():
    from rlkit.app.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices
    options = {o for name in ("train", "pretrain") for a in _all_actions(sub[name]) for o in a.option_strings}
    missing = sorted((set(FIELD_FLAGS.values()) | set(KWARG_FLAGS.values())) - options)
    assert not missing, f"rlkit.app.flags names options no command has: {missing}"


def _all_actions(parser):
    """Every option of `parser` and of its subcommands (``rlkit pretrain vae|bc|seq``)."""
    for action in parser._actions:
        yield action
        if isinstance(action.choices, dict):
            for child in action.choices.values():
                yield from _all_actions(child)


def test_the_cli_shows_a_library_error_with_its_options(tmp_path, capsys):
    from rlkit.app.cli import main

    argv = ["train", "ppo", "CartPole-v1", "--freeze-encoder", "--logdir", str(tmp_path / "runs")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "got --freeze-encoder without --init-encoder or --init-policy" in err, err
    assert "`" not in err and not (tmp_path / "runs").exists()
