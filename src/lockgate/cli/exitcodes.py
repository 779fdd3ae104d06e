"""Documented exit codes; the CLI maps every outcome to one of these in one place."""

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    """Success: nothing at or above the threshold, verification passed."""
    POLICY = 1
    """The policy or threshold failed (findings, coverage gaps, failed verification)."""
    USAGE = 2
    """Usage error: bad options, unreadable policy or configuration."""
    RUNTIME = 3
    """Runtime error: registry unreachable, corrupt input, internal error."""
