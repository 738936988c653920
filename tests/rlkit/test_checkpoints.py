"""Atomic writes (rlkit.atomic_io) and checkpoint bundles (rlkit.checkpoints): a killed write never looks complete; damage is refused by name."""

import os
import random
import signal
import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlkit.atomic_io import atomic_open, atomic_write
from rlkit.checkpoints import (
    CheckpointError,
    capture_rng,
    check_spaces,
    latest_checkpoint,
    list_checkpoints,
    preserved_rng,
    read_bundle,
    read_checkpoint,
    restore_env,
    restore_rng,
    save_checkpoint,
    verify_zip,
    write_bundle,
)


def test_atomic_write_replaces_whole_file(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write(path, b"old")
    atomic_write(path, b"new content")
    assert path.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temp file left


def test_exception_midway_keeps_previous_file(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write(path, b"previous")
    with pytest.raises(RuntimeError):
        with atomic_open(path) as handle:
            handle.write(b"half of the new")
            raise RuntimeError("writer died")
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_write_killed_midway_leaves_previous_file_loadable(tmp_path):
    """SIGKILL a process in the middle of an atomic write: the target still holds the previous bundle."""
    path = tmp_path / "state.ckpt"
    write_bundle(path, {"version": 1, "step": 1})
    script = textwrap.dedent(
        f"""
        import sys, time
        from rlkit.atomic_io import atomic_open
        with atomic_open({str(path)!r}) as handle:
            handle.write(b"RLKIT-CHECKPOINT" + b"x" * 1000)
            handle.flush()
            print("writing", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert read_bundle(path) == {"version": 1, "step": 1}
    leftovers = [p for p in tmp_path.iterdir() if p.name != "state.ckpt"]
    assert len(leftovers) == 1 and leftovers[0].name.endswith(".tmp")  # never read: not a checkpoint name
    assert list_checkpoints(tmp_path) == []


def test_bundle_refuses_truncation_and_corruption(tmp_path):
    path = tmp_path / "b.state"
    write_bundle(path, {"version": 1, "payload": list(range(1000))})
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match=rf"{path}: truncated checkpoint"):
        read_bundle(path)
    corrupted = bytearray(raw)
    corrupted[-10] ^= 0xFF
    path.write_bytes(bytes(corrupted))
    with pytest.raises(CheckpointError, match=rf"{path}: corrupted checkpoint"):
        read_bundle(path)
    path.write_bytes(b"PK\x03\x04 not ours")
    with pytest.raises(CheckpointError, match="not an rlkit checkpoint"):
        read_bundle(path)


def test_rng_capture_restore_round_trip():
    state = capture_rng()
    draws = (random.random(), np.random.rand(), torch.rand(1).item())
    restore_rng(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == draws
    with preserved_rng():
        np.random.rand(100)
    assert np.random.rand() != draws[1]  # the stream moved on only by our draw, not the block's
    restore_rng(state)
    random.random(), np.random.rand(), torch.rand(1)
    with preserved_rng():
        torch.rand(100)
    after = torch.rand(1).item()
    restore_rng(state)
    torch.rand(1)
    assert torch.rand(1).item() == after


def test_check_spaces_shows_both_sides():
    saved, current = gym.spaces.Box(0, 1, (3,)), gym.spaces.Box(0, 1, (4,))
    action = gym.spaces.Discrete(2)
    with pytest.raises(CheckpointError) as info:
        check_spaces("run/model.zip", saved, action, current, action, "MyEnv-v0")
    message = str(info.value)
    assert "run/model.zip" in message and "MyEnv-v0" in message and "observation space" in message
    assert str(saved) in message and str(current) in message


def _dqn(n_envs=2):
    from stable_baselines3 import DQN
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env("CartPole-v1", n_envs=n_envs, seed=0)
    return DQN("MlpPolicy", env, learning_starts=50, buffer_size=1000, seed=0, device="cpu"), env


def test_checkpoint_round_trip_keeps_last_k_and_refuses_damage(tmp_path):
    model, env = _dqn()
    steps = []
    for _ in range(4):
        model.learn(64, reset_num_timesteps=False)
        steps.append(save_checkpoint(model, env, tmp_path, keep=2).step)
    kept = list_checkpoints(tmp_path)
    assert [c.step for c in kept] == steps[-2:]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for c in kept for n in (c.model_path.name, c.state_path.name))
    ckpt = latest_checkpoint(tmp_path)
    state = read_checkpoint(ckpt)
    assert state["step"] == model.num_timesteps and state["replay_buffer"] is not None
    restored = restore_env(state)
    assert restored.num_envs == 2 and restored.observation_space == env.observation_space

    # An incomplete checkpoint (zip written, sidecar not) is not listed.
    (tmp_path / "ckpt_000000999999.zip").write_bytes(b"partial")
    assert latest_checkpoint(tmp_path) == ckpt

    # A truncated zip no longer matches its sidecar.
    raw = ckpt.model_path.read_bytes()
    ckpt.model_path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match=rf"{ckpt.model_path}: truncated or corrupted"):
        read_checkpoint(ckpt)
    with pytest.raises(CheckpointError, match=rf"{ckpt.model_path}: not a readable model zip"):
        verify_zip(ckpt.model_path)
    # The previous checkpoint is untouched and still loads.
    previous = list_checkpoints(tmp_path)[0]
    assert read_checkpoint(previous)["step"] == steps[-2]


def test_corrupted_zip_member_is_refused(tmp_path):
    model, _ = _dqn(1)
    path = tmp_path / "model.zip"
    model.save(path)
    raw = bytearray(path.read_bytes())
    start = raw.index(b"policy.pth")  # corrupt bytes inside a member's data, not the directory
    for i in range(start + 200, start + 260):
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=str(path)):
        verify_zip(path)
    os.remove(path)
    with pytest.raises(FileNotFoundError):
        verify_zip(path)
