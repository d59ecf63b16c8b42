"""The one rule for an environment suffix: the config, the plugin's options and the sweeper.

A suffix ends every resource name and is how the sweeper finds a run's leftovers, so the
config may not accept one the sweeper would refuse (issue #15). How long it may be depends
on the environment (the longest derived name); ``stack.naming`` checks that.
"""
from __future__ import annotations

import re

# The sweeper matches a run's resources by suffix as a whole token: a shorter suffix would
# match names and tags of other runs.
MIN_SUFFIX_LENGTH = 4
SUFFIX_SHAPE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def suffix_problem(suffix: str) -> str | None:
    """None when ``suffix`` may name a run, else the rule it breaks (to follow "suffix=...")."""
    if not suffix:
        return (f"is empty: give {MIN_SUFFIX_LENGTH}+ lowercase letters, digits or single "
                "hyphens")
    if not SUFFIX_SHAPE.fullmatch(suffix):
        return ("only lowercase letters, digits and single hyphens, not starting or ending "
                "with a hyphen")
    if len(suffix) < MIN_SUFFIX_LENGTH:
        return (f"at least {MIN_SUFFIX_LENGTH} characters: the sweeper finds a run's resources "
                "by its suffix, and a shorter one would match resources of other runs")
    return None


def is_suffix_shape(suffix: str) -> bool:
    return suffix_problem(suffix) is None
