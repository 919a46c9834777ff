"""Exceptions the kit raises for problems a user can fix.

Every message says what was wrong and what to do; the CLI prints it without a traceback.
"""

from __future__ import annotations


class KitError(Exception):
    """A problem with the user's input or request (bad file, unknown CSM, bad period)."""
