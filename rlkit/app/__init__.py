"""The application: the `rlkit` command and its subcommands, the experiment config, run directories,
train/resume, sweeps and `rlkit bench`. The one layer that wires `envs`, `agents` and the library."""
