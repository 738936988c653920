"""``rlkit bench train --suite memory`` (rlkit/app/bench/train_memory.py): a smoke run of the table and its argument checks."""

from __future__ import annotations

import argparse

import pytest

from rlkit.app.bench import train_memory

pytest.importorskip("sb3_contrib")  # the reference, RecurrentPPO (the bench extra)


def _args(**overrides):
    args = dict(env=None, n_envs=[2], steps=256, repeat=1, quick=False, seed=0, width=8, threads=1,
                transformer_layers=1, transformer_ff=0, encoders=["transformer"], bptt_len=8, compiled=[])  # fmt: skip
    return argparse.Namespace(**{**args, **overrides})


def test_memory_suite_prints_every_agent_with_its_ratio_to_recurrent_ppo(capsys):
    assert train_memory.run(_args()) == 0
    out = capsys.readouterr().out
    for label in ("RecurrentPPO (sb3-contrib)", "ppo-seq transformer", "PPO MLP (SB3)"):
        assert label in out
    assert "× RecurrentPPO" in out and "× RecurrentPPO (CPU time)" in out and "CartPole-v1" in out


def test_table_gives_each_rows_time_against_the_lstm_agents_and_mlp_ppos_when_timed():
    best = {train_memory.REFERENCE: 40.0, "ppo-seq lstm": 4.0, "ppo-seq transformer": 9.0, train_memory.MLP: 3.0}
    cpu = {train_memory.REFERENCE: 30.0, "ppo-seq lstm": 3.0, "ppo-seq transformer": 6.0, train_memory.MLP: 2.0}
    returns, env_steps = dict.fromkeys(best, 20.0), dict.fromkeys(best, 2048)
    header, rows = train_memory.table_rows(best, cpu, 1000, returns, env_steps)
    assert header == ["agent", "steps/s", "× RecurrentPPO", "× RecurrentPPO (CPU time)", "time ÷ ppo-seq lstm", "time ÷ PPO MLP",
                      "ep_rew_mean", "env steps"]  # fmt: skip
    assert rows[2] == ["ppo-seq transformer", pytest.approx(1000 / 9), pytest.approx(40 / 9), pytest.approx(5.0), pytest.approx(2.25),
                       pytest.approx(3.0), 20.0, 2048]  # fmt: skip
    assert rows[1][4] == 1.0 and rows[3][5] == 1.0
    for left_out, column in (("ppo-seq lstm", "time ÷ ppo-seq lstm"), (train_memory.MLP, "time ÷ PPO MLP")):
        without = {k: v for k, v in best.items() if k != left_out}
        header, rows = train_memory.table_rows(without, cpu, 1000, returns, env_steps)
        assert column not in header and len(header) == 7 and all(len(row) == len(header) for row in rows)


def test_models_share_env_rollout_and_width():
    models = train_memory.build_models("CartPole-v1", 2, 8, 0, ("lstm",))
    try:
        for model in models.values():
            assert model.n_steps == 128 and model.n_envs == 2 and model.n_epochs == 10 and model.batch_size == 256
        assert models["ppo-seq lstm"].policy.encoder.output_dim == 8
        assert models[train_memory.REFERENCE].policy.lstm_actor.hidden_size == 8
    finally:
        for model in models.values():
            model.get_env().close()


@pytest.mark.parametrize("ff, width", [(0, 32), (24, 24)])  # 0: the Transformer's usual 4 x width
def test_transformer_feed_forward_width_is_the_option_or_four_times_the_width(ff, width):
    models = train_memory.build_models("CartPole-v1", 2, 8, 0, ("transformer",), reference=False, mlp=False, transformer_ff=ff)
    try:
        (model,) = models.values()
        block = model.policy.encoder.core.blocks[0]
        assert block.ff[0].out_features == width and block.ff[3].in_features == width
    finally:
        models["ppo-seq transformer"].get_env().close()


def test_compiled_rows_are_the_same_agents_under_torch_compile():
    models = train_memory.build_models("CartPole-v1", 2, 8, 0, ("transformer",), compiled=("transformer",))
    try:
        eager, compiled = models["ppo-seq transformer"].policy, models["ppo-seq transformer (torch.compile)"].policy
        assert compiled.torch_compile and compiled._compiled_call_impl is not None  # compiled lazily, at the first call
        assert not eager.torch_compile and eager._compiled_call_impl is None
        assert eager.state_dict().keys() == compiled.state_dict().keys()
        for a, b in zip(eager.state_dict().values(), compiled.state_dict().values()):
            assert a.shape == b.shape
    finally:
        for model in models.values():
            model.get_env().close()


def test_bad_numbers_are_value_errors():
    with pytest.raises(ValueError, match="--width=0"):
        train_memory.run(_args(width=0))
    with pytest.raises(ValueError, match="--transformer-ff=-1"):
        train_memory.run(_args(transformer_ff=-1))


def test_a_rows_training_does_not_depend_on_the_other_rows():
    def episodes(encoders):
        models = train_memory.build_models("CartPole-v1", 2, 8, 0, encoders, bptt_len=8, mlp=False)
        train_memory.time_learns(models, steps=256, repeat=2, seed=0)
        return {label: [(info["r"], info["l"]) for info in model.ep_info_buffer] for label, model in models.items()}

    alone, together = episodes(("lstm",)), episodes(("lstm", "gru"))
    for label in (train_memory.REFERENCE, "ppo-seq lstm"):
        assert alone[label] and alone[label] == together[label]


def test_own_global_rng_leaves_the_callers_streams_as_they_were():
    import numpy as np
    import torch

    rng = train_memory.OwnGlobalRNG(3)
    torch.manual_seed(7)
    np.random.seed(7)
    expected = torch.rand(1).item(), np.random.rand()
    torch.manual_seed(7)
    np.random.seed(7)
    with rng.active():
        first = torch.rand(1).item()
    with rng.active():
        second = torch.rand(1).item()
    assert (torch.rand(1).item(), np.random.rand()) == expected
    torch.manual_seed(3)
    assert [first, second] == torch.rand(2).tolist()
