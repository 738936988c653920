"""Subcommands of the `rlkit` command: one module each, with `add_arguments` and `run`.

Keep module-level imports light (argparse only): `rlkit --help` imports every one of them.
"""
