"""rlkit: a Gymnasium-centred reinforcement-learning and sequence-agent toolkit.

The library layer (`rlkit.returns`, `rlkit.buffers`, `rlkit.nn`, `rlkit.pretrain`) works on
Gymnasium spaces and NumPy arrays and imports neither `envs` nor `agents`. The `rlkit` command
(`rlkit.app.cli`) is the one place that wires envs, agents and the library together.
"""

__version__ = "0.1.0"
