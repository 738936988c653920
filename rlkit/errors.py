"""Errors that the `rlkit` command reports as one line and exit code 2 (no traceback).

Library code raises `ValueError` (or a subclass) for bad input, with a message that says what
was received, what was expected and the likely fix. `UsageError` is for input that only the
command line can get wrong (a missing run directory, a malformed `--set`).
"""


class UsageError(ValueError):
    """Bad command-line input: printed as `rlkit: error: <message>`, exit code 2."""
