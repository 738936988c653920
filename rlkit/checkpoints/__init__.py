"""Checkpoint bundles: everything a run needs to continue as if never stopped.

A checkpoint at step N is two files in ``<run>/checkpoints/``:

* ``ckpt_<N>.zip``: the agent in SB3's zip format (weights, optimizer state, step counter, schedule
  progress, ``_last_obs``, episode-info buffers: what ``model.save`` writes), loadable by SB3 alone;
* ``ckpt_<N>.state``: the sidecar (`bundle`), written *last*, whose presence marks the checkpoint
  complete. It holds the vec env (`env_state`: env copies with their RNGs and mid-episode state), the
  normalization statistics, the replay buffer where the algorithm has one, the RNG states of Python,
  NumPy and torch (`rng`), gSDE's exploration matrices where the policy has them (`gsde`), the training
  callbacks' schedule, and a SHA-256 of the zip.

Every file is written atomically (`rlkit.atomic_io`): a write killed midway leaves a temp file that is
never read, and the previous checkpoint still loads. A truncated or corrupted sidecar, or a zip that
does not match its sidecar, is refused with a message naming the file; a checkpoint whose spaces differ
from the env's is refused with both sides shown (`verify`).

Checkpoints are pickles: load only checkpoints you trust, as with SB3's own zips.
"""

from rlkit.checkpoints.bundle import MAGIC, STATE_VERSION, CheckpointError, read_bundle, write_bundle
from rlkit.checkpoints.env_state import normalization_of, restore_env
from rlkit.checkpoints.rng import capture_rng, preserved_rng, restore_rng
from rlkit.checkpoints.store import (
    Checkpoint,
    checkpoint_paths,
    latest_checkpoint,
    list_checkpoints,
    read_checkpoint,
    restore_training_state,
    save_checkpoint,
)
from rlkit.checkpoints.verify import check_spaces, verify_zip

__all__ = [
    "MAGIC",
    "STATE_VERSION",
    "Checkpoint",
    "CheckpointError",
    "capture_rng",
    "check_spaces",
    "checkpoint_paths",
    "latest_checkpoint",
    "list_checkpoints",
    "normalization_of",
    "preserved_rng",
    "read_bundle",
    "read_checkpoint",
    "restore_env",
    "restore_rng",
    "restore_training_state",
    "save_checkpoint",
    "verify_zip",
    "write_bundle",
]
