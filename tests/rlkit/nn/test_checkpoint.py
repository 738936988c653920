"""save_encoder / load_encoder round trips for every encoder x space; mismatches are refused."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from rlkit.nn import (
    load_encoder,
    load_encoder_weights,
    make_encoder,
    read_checkpoint,
    save_encoder,
    sequence_encoder_names,
)


def _perturb(encoder):
    """Move every parameter and buffer off its initial value, so a load that silently re-initialises fails."""
    with torch.no_grad():
        for t in encoder.state_dict().values():
            if t.is_floating_point():
                t.add_(torch.rand_like(t))


def test_feedforward_round_trip_is_exact(fit_case, nnkit, tmp_path):
    name, space_name = fit_case
    space = nnkit.SPACES[space_name]
    encoder = make_encoder(name, space, **nnkit.tiny_kwargs(name, space))
    _perturb(encoder)
    path = save_encoder(encoder, tmp_path / "enc.pt", source="unit-test", epochs=3)
    loaded = load_encoder(path)
    assert type(loaded) is type(encoder) and loaded.name == name and loaded.output_dim == encoder.output_dim
    assert loaded.observation_space == space
    assert loaded.checkpoint_metadata == {"source": "unit-test", "epochs": 3}
    obs = nnkit.sample_batch(space, (4,))
    torch.testing.assert_close(loaded.eval()(obs), encoder.eval()(obs), rtol=0, atol=0)
    assert [p.name for p in tmp_path.iterdir()] == ["enc.pt"]  # no temporary file left behind


@pytest.mark.parametrize("name", sequence_encoder_names())
def test_sequence_round_trip_is_exact(name, space_name, nnkit, tmp_path):
    space = nnkit.SPACES[space_name]
    encoder = make_encoder(name, space, sequence=True, **nnkit.tiny_kwargs(name, space, sequence=True)).eval()
    _perturb(encoder)
    loaded = load_encoder(save_encoder(encoder, tmp_path / "seq.pt")).eval()
    assert loaded.is_sequence and loaded.state_shapes == encoder.state_shapes
    obs = nnkit.sample_batch(space, (2, 4))
    starts = np.array([[True, False, True, False], [False] * 4])
    a, sa = encoder(obs, starts, None)
    b, sb = loaded(obs, starts, None)
    torch.testing.assert_close(b, a, rtol=0, atol=0)
    for x, y in zip(sa, sb):
        torch.testing.assert_close(y, x, rtol=0, atol=0)


def test_batch_norm_statistics_round_trip(tmp_path):
    space = spaces.Box(0.0, 1.0, (2, 6, 6), np.float32)
    encoder = make_encoder("cnn", space, batch_norm=True, channels=(4,), features_dim=5)
    encoder.train()(torch.rand(8, 2, 6, 6) * 3)  # moves the running statistics
    loaded = load_encoder(save_encoder(encoder, tmp_path / "bn.pt"))
    x = torch.rand(3, 2, 6, 6)
    torch.testing.assert_close(loaded.eval()(x), encoder.eval()(x), rtol=0, atol=0)


def test_checkpoint_is_plain_data(tmp_path):
    encoder = make_encoder("mlp", spaces.Discrete(4), hidden_sizes=(3,))
    path = save_encoder(encoder, tmp_path / "a" / "b.pt")
    data = torch.load(path, weights_only=True)  # no pickled objects inside
    assert data["name"] == "mlp" and data["config"] == {"hidden_sizes": (3,)}
    assert data["observation_space"] == {"type": "Discrete", "n": 4, "start": 0}


def test_mismatches_are_refused_showing_both_sides(tmp_path):
    vector = spaces.Box(-1.0, 1.0, (4,), np.float32)
    path = save_encoder(make_encoder("mlp", vector, hidden_sizes=(8,)), tmp_path / "mlp.pt")
    cases = [
        (make_encoder("vae", vector), r"holds encoder 'mlp'; the target is 'vae'"),
        (make_encoder("mlp", spaces.Box(-1.0, 1.0, (5,), np.float32), hidden_sizes=(8,)), r"shape=\(4,\).*shape=\(5,\)"),
        (make_encoder("mlp", spaces.Box(-2.0, 2.0, (4,), np.float32), hidden_sizes=(8,)), r"bounds=\[-1, 1\].*bounds=\[-2, 2\]"),
        (make_encoder("mlp", vector, hidden_sizes=(9,)), r"\[8\].*\[9\]"),
        (make_encoder("mlp", vector, hidden_sizes=(8,), activation="tanh"), "activation"),
    ]
    for target, pattern in cases:
        with pytest.raises(ValueError, match=pattern) as info:
            load_encoder_weights(target, path)
        assert "\n" not in str(info.value)
    same = make_encoder("mlp", vector, hidden_sizes=[8], seed=3)  # list vs tuple and the seed do not matter
    load_encoder_weights(same, path)


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="made by rlkit.nn.make_encoder"):
        save_encoder(torch.nn.Linear(2, 2), tmp_path / "x.pt")
    encoder = make_encoder("mlp", spaces.Discrete(3))
    with pytest.raises(ValueError, match="plain values"):
        save_encoder(encoder, tmp_path / "x.pt", when=object())
    with pytest.raises(FileNotFoundError):
        read_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not an rlkit encoder checkpoint"):
        read_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="format"):
        load_encoder(tmp_path / "other.pt")
