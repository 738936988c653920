"""MLP and CNN against hand-written references and SB3's NatureCNN."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.torch_layers import NatureCNN

from rlkit.nn import CNN, MLP, ConvBlock, make_encoder


def test_mlp_matches_its_formula_with_layer_norm():
    mlp = MLP(4, (6, 5), activation="tanh", layer_norm=True)
    x = torch.randn(3, 4)
    lin1, ln1, _, lin2, ln2, _ = mlp.net
    expected = torch.tanh(F.layer_norm(F.linear(x, lin1.weight, lin1.bias), (6,), ln1.weight, ln1.bias))
    expected = torch.tanh(F.layer_norm(F.linear(expected, lin2.weight, lin2.bias), (5,), ln2.weight, ln2.bias))
    torch.testing.assert_close(mlp(x), expected)
    assert mlp.output_dim == 5


def test_mlp_options():
    assert MLP(3, ()).output_dim == 3  # no layers: identity
    head = MLP(3, (4, 2), activate_last=False)
    assert isinstance(head.net[-1], torch.nn.Linear)
    dropped = MLP(3, (16,), dropout=0.5)
    x = torch.ones(64, 3)
    assert not torch.equal(dropped.train()(x), dropped(x))
    assert torch.equal(dropped.eval()(x), dropped(x))
    with pytest.raises(ValueError, match="dropout"):
        MLP(3, (4,), dropout=1.5)


def test_nature_preset_equals_sb3_nature_cnn():
    space = spaces.Box(0, 255, (4, 84, 84), np.uint8)
    theirs = NatureCNN(space, features_dim=512)
    ours = make_encoder("cnn", space)
    body: CNN = ours.body
    sb3_convs = [m for m in theirs.cnn if isinstance(m, torch.nn.Conv2d)]
    for block, conv in zip(body.convs[:-1], sb3_convs):
        block.conv.load_state_dict(conv.state_dict())
    body.linear[0].load_state_dict(theirs.linear[0].state_dict())
    obs = torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)
    expected = theirs(preprocess_obs(obs, space))
    torch.testing.assert_close(ours(obs), expected)
    assert ours.output_dim == theirs.features_dim == 512


def test_residual_block_adds_its_input():
    block = ConvBlock(3, 3, kernel_size=3, padding=1, residual=True)
    for conv in (block.conv, block.conv2):
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    x = torch.randn(2, 3, 5, 5)
    torch.testing.assert_close(block(x), F.relu(x))  # main path is zero: relu(0 + x)
    projected = ConvBlock(3, 6, kernel_size=3, stride=2, padding=1, residual=True)
    assert projected(x).shape == (2, 6, 3, 3)
    with pytest.raises(ValueError, match="'same' padding"):
        ConvBlock(3, 3, kernel_size=3, padding=0, residual=True)


def test_pool_batch_norm_dropout_and_computed_size():
    cnn = CNN(2, 8, 8, preset=None, channels=(4, 6), pool="max", batch_norm=True, dropout=0.2, features_dim=None)
    assert cnn.output_dim == 6 * 2 * 2  # two 2x2 pools: 8 -> 4 -> 2
    x = torch.randn(5, 2, 8, 8)
    assert cnn(x).shape == (5, 24)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in cnn.modules()) == 2
    cnn.eval()
    torch.testing.assert_close(cnn(x), cnn(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match="pool"):
        CNN(2, 8, 8, pool="median")
    with pytest.raises(ValueError, match="one value per block"):
        CNN(2, 8, 8, preset="grid", channels=(4, 4), strides=(1, 1, 1))


def test_grid_preset_keeps_small_maps():
    cnn = CNN(3, 7, 7, preset="grid", features_dim=None)
    assert cnn.output_dim == 32 * 7 * 7  # "same" 3x3 convs: no cell of a 7x7 map is lost
