"""make_encoder over every registered encoder x every space kind: shapes, gradients, errors, preprocessing."""

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.preprocessing import preprocess_obs

from rlkit.nn import encoder_names, fitting_encoders, make_encoder, sequence_encoder_names
from rlkit.nn.spaces import preprocess, space_from_dict, space_to_dict

# What the registry promises to accept, written out independently of its code.
EXPECTED_FITS = {
    "vector": {"mlp", "vae"},
    "window": {"mlp", "lstm", "gru", "tcn", "transformer"},
    "image": {"mlp", "cnn", "vae"},
    "grid": {"mlp", "cnn", "vae"},
    "discrete": {"mlp"},
    "multidiscrete": {"mlp"},
    "multibinary": {"mlp"},
    "dict": {"mlp"},
}


def _probe(features):
    """A loss whose gradient is generic: a fixed random projection (a plain sum is blind behind a LayerNorm)."""
    weights = torch.randn(features.shape, generator=torch.Generator().manual_seed(0)).to(features.device)
    return (features * weights).sum()


def _assert_every_parameter_gets_gradient(module, loss):
    loss.backward()
    missing = [n for n, p in module.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert not missing, f"no gradient reaches {missing}"


def test_names_include_the_contract():
    assert {"mlp", "cnn", "lstm", "gru", "tcn", "transformer", "vae"} <= set(encoder_names())
    assert set(sequence_encoder_names()) == {"lstm", "gru", "tcn", "transformer"}


def test_fitting_encoders_match_the_documented_rules(space_name, nnkit):
    assert set(fitting_encoders(nnkit.SPACES[space_name])) & set(EXPECTED_FITS[space_name]) == EXPECTED_FITS[space_name]
    # Registered extensions may fit more; the built-in families must fit exactly these.
    builtin = {"mlp", "cnn", "lstm", "gru", "tcn", "transformer", "vae"}
    assert set(fitting_encoders(nnkit.SPACES[space_name])) & builtin == EXPECTED_FITS[space_name]


@pytest.mark.parametrize("name", encoder_names())
def test_feedforward_shapes_and_gradients(name, space_name, nnkit):
    space = nnkit.SPACES[space_name]
    kwargs = nnkit.tiny_kwargs(name, space)
    if name not in fitting_encoders(space):
        with pytest.raises(ValueError, match="encoders that fit this space") as info:
            make_encoder(name, space, **kwargs)
        assert "\n" not in str(info.value)
        for fit in fitting_encoders(space):
            assert fit in str(info.value)
        return
    encoder = make_encoder(name, space, **kwargs)
    assert isinstance(encoder.output_dim, int) and not encoder.is_sequence
    obs = nnkit.sample_batch(space, (4,))
    features = encoder(obs)
    assert features.shape == (4, encoder.output_dim)
    assert features.dtype == torch.float32 and torch.isfinite(features).all()
    loss = _probe(features)
    if hasattr(encoder, "loss"):  # a VAE's decoder and variance head train through its own loss
        loss = loss + encoder.loss(obs)[0]
    _assert_every_parameter_gets_gradient(encoder, loss)


@pytest.mark.parametrize("name", encoder_names())
def test_sequence_mode_shapes_state_and_gradients(name, space_name, nnkit):
    space = nnkit.SPACES[space_name]
    kwargs = nnkit.tiny_kwargs(name, space, sequence=True)
    if name not in sequence_encoder_names():
        with pytest.raises(ValueError, match="not a sequence encoder"):
            make_encoder(name, space, sequence=True, **kwargs)
        return
    encoder = make_encoder(name, space, sequence=True, **kwargs)
    assert encoder.is_sequence
    batch, steps = 3, 5
    state = encoder.initial_state(batch)
    assert [tuple(s.shape) for s in state] == [(batch, *shape) for shape in encoder.state_shapes]
    assert all(s.dtype == torch.float32 for s in state)
    obs = nnkit.sample_batch(space, (batch, steps))
    starts = np.zeros((batch, steps), bool)
    starts[:, 0] = True
    starts[1, 2] = True
    features, new_state = encoder(obs, starts, state)
    assert features.shape == (batch, steps, encoder.output_dim)
    assert [s.shape for s in new_state] == [s.shape for s in state]
    _assert_every_parameter_gets_gradient(encoder, _probe(features))


@pytest.mark.parametrize("name", sequence_encoder_names())
def test_sequence_mode_with_an_inner_encoder(name, nnkit):
    space = nnkit.SPACES["grid"]
    encoder = make_encoder(name, space, sequence=True, inner="cnn", inner_kwargs=nnkit.tiny_kwargs("cnn", space),
                           **nnkit.tiny_kwargs(name, space, sequence=True))  # fmt: skip
    assert encoder.core.input_dim == encoder.inner.output_dim == 8
    obs = nnkit.sample_batch(space, (2, 3))
    features, _ = encoder(obs, np.eye(2, 3, dtype=bool), None)
    assert features.shape == (2, 3, encoder.output_dim)
    _assert_every_parameter_gets_gradient(encoder, _probe(features))


def test_flat_frame_stack_with_window_equals_the_2d_window(nnkit):
    """VecFrameStack's flat (T * D,) stack with window=T reads the same as a (T, D) Box."""
    flat = spaces.Box(-1.0, 1.0, (18,), np.float32)
    window = nnkit.SPACES["window"]
    for name in sequence_encoder_names():
        a = make_encoder(name, flat, window=6, seed=3, **nnkit.tiny_kwargs(name, window))
        b = make_encoder(name, window, seed=3, **nnkit.tiny_kwargs(name, window))
        x = nnkit.sample_batch(window, (4,))
        torch.testing.assert_close(a(x.reshape(4, 18)), b(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match="multiple of window=4"):
        make_encoder("tcn", flat, window=4)


def test_window_tcn_receptive_field_covers_the_window():
    for steps in (2, 5, 13, 14, 40):
        space = spaces.Box(-1.0, 1.0, (steps, 2), np.float32)
        assert make_encoder("tcn", space).body.core.receptive_field >= steps


def test_preprocessing_matches_sb3(space_name, nnkit):
    """Oracle: SB3's preprocess_obs, which SB3 policies apply before a features extractor."""
    space = nnkit.SPACES[space_name]
    if space_name == "discrete":
        space = spaces.Discrete(5)  # SB3 ignores `start`; rlkit shifts it (tested below)
    obs = nnkit.sample_batch(space, (4,))
    ours = preprocess(obs, space)
    if isinstance(space, spaces.Dict):
        theirs = preprocess_obs({k: torch.as_tensor(v) for k, v in obs.items()}, space)
        for k in space.spaces:
            torch.testing.assert_close(ours[k], theirs[k], rtol=0, atol=0)
    else:
        torch.testing.assert_close(ours, preprocess_obs(torch.as_tensor(obs), space), rtol=0, atol=0)


def test_forward_equals_forward_preprocessed(space_name, nnkit):
    space = nnkit.SPACES[space_name]
    for name in fitting_encoders(space):
        encoder = make_encoder(name, space, **nnkit.tiny_kwargs(name, space)).eval()
        obs = nnkit.sample_batch(space, (3,))
        torch.testing.assert_close(encoder(obs), encoder.forward_preprocessed(preprocess(obs, space)), rtol=0, atol=0)


def test_discrete_start_is_shifted_before_one_hot():
    x = preprocess(np.array([3, 5, 4]), spaces.Discrete(3, start=3))
    assert x.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    y = preprocess(np.array([[-1, 2]]), spaces.MultiDiscrete([2, 3], start=[-1, 0]))
    assert y.tolist() == [[1, 0, 0, 0, 1]]


def test_image_scaling_only_for_uint8_images():
    image = spaces.Box(0, 255, (1, 2, 2), np.uint8)
    grid = spaces.Box(0, 10, (1, 2, 2), np.uint8)  # uint8 but not [0, 255]: a symbolic grid
    obs = np.full((1, 1, 2, 2), 10, np.uint8)
    assert preprocess(obs, image).max().item() == pytest.approx(10 / 255)
    assert preprocess(obs, grid).max().item() == 10.0


def test_cnn_preset_is_picked_by_size():
    assert make_encoder("cnn", spaces.Box(0, 255, (3, 36, 36), np.uint8)).output_dim == 512  # nature
    assert make_encoder("cnn", spaces.Box(0, 1, (3, 7, 7), np.float32)).output_dim == 128  # grid
    with pytest.raises(ValueError, match="too small for preset='nature'"):
        make_encoder("cnn", spaces.Box(0, 1, (3, 7, 7), np.float32), preset="nature")


def test_channels_last_images_are_refused_with_the_fix():
    hwc = spaces.Box(0, 255, (7, 7, 3), np.uint8)
    with pytest.raises(ValueError, match="looks channels-last"):
        make_encoder("cnn", hwc)
    assert make_encoder("cnn", hwc, check_channels=False).output_dim > 0


def test_dict_encoder_per_key_choice(nnkit):
    space = spaces.Dict({"image": nnkit.SPACES["grid"], "vec": nnkit.SPACES["vector"]})
    with pytest.raises(ValueError, match=r"Dict key 'vec'.*encoder=\{'vec': 'mlp'\}"):
        make_encoder("cnn", space)
    encoder = make_encoder("mlp", space, hidden_sizes=(7,), encoder={"image": {"name": "cnn", "features_dim": 5}})
    assert encoder.output_dim == 12
    assert type(encoder.encoders["image"].body).__name__ == "CNN"
    assert encoder(nnkit.sample_batch(space, (2,))).shape == (2, 12)
    with pytest.raises(ValueError, match="keys \\['nope'\\] that the space lacks"):
        make_encoder("mlp", space, encoder={"nope": "mlp"})


def test_bad_requests_raise_one_line_value_errors(nnkit):
    vector = nnkit.SPACES["vector"]
    cases = [
        (lambda: make_encoder("resnet9000", vector), "expected one of"),
        (lambda: make_encoder("mlp", vector, hidden_size=3), "unknown argument"),
        (lambda: make_encoder("mlp", vector, activation="swishy"), "activation"),
        (lambda: make_encoder("lstm", vector), "sequence=True"),
        (lambda: make_encoder("mlp", vector, sequence=True), "not a sequence encoder"),
        (lambda: make_encoder("mlp", vector, inner="mlp"), "needs sequence=True"),
        (lambda: make_encoder("mlp", spaces.Text(5)), "rlkit encoders read"),
        (lambda: make_encoder("transformer", nnkit.SPACES["window"], d_model=6, num_heads=4), "divisible"),
    ]
    for build, pattern in cases:
        with pytest.raises(ValueError, match=pattern) as info:
            build()
        assert "\n" not in str(info.value)


def test_wrong_observation_shape_is_a_value_error(nnkit):
    encoder = make_encoder("mlp", nnkit.SPACES["vector"])
    with pytest.raises(ValueError, match=r"expected \(B, 5\)"):
        encoder(np.zeros((2, 4), np.float32))
    seq = make_encoder("gru", nnkit.SPACES["vector"], sequence=True)
    with pytest.raises(ValueError, match=r"expected \(B, T, 5\)"):
        seq(np.zeros((2, 5), np.float32), np.zeros((2, 1), bool), None)
    with pytest.raises(ValueError, match="episode_starts"):
        seq(np.zeros((2, 3, 5), np.float32), np.zeros((2,), bool), None)


def test_same_seed_same_parameters_and_global_rng_untouched(space_name, nnkit):
    space = nnkit.SPACES[space_name]
    name = fitting_encoders(space)[-1]
    before = torch.random.get_rng_state()
    a = make_encoder(name, space, seed=7, **nnkit.tiny_kwargs(name, space))
    b = make_encoder(name, space, seed=7, **nnkit.tiny_kwargs(name, space))
    assert torch.equal(torch.random.get_rng_state(), before)
    for (_, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(p, q)
    c = make_encoder(name, space, seed=8, **nnkit.tiny_kwargs(name, space))
    assert any(not torch.equal(p, q) for p, q in zip(a.state_dict().values(), c.state_dict().values()))


def test_space_serial_form_round_trips(space_name, nnkit):
    space = nnkit.SPACES[space_name]
    back = space_from_dict(space_to_dict(space))
    assert back == space


def test_space_serial_form_keeps_per_dim_bounds():
    per_dim = spaces.Box(np.array([0.0, -1.0], np.float32), np.array([1.0, np.inf], np.float32), dtype=np.float32)
    assert space_from_dict(space_to_dict(per_dim)) == per_dim
