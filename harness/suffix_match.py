"""Whether a name, tag value or ARN carries a run's suffix: as a whole token only.

"alb-dev-abc1" carries abc1; "alb-dev-abc12" and "xabc1" do not, so the leftover check of
run abc1 never reports (and the sweeper never deletes) what belongs to run abc12.
"""
from __future__ import annotations

import re
from typing import Any


class Matcher:
    def __init__(self, suffix: str):
        self.suffix = suffix
        self._re = re.compile(r"(?<![A-Za-z0-9])" + re.escape(suffix) + r"(?![A-Za-z0-9])")

    def __call__(self, *texts: Any) -> bool:
        return any(isinstance(t, str) and self._re.search(t) for t in texts)

    def tags(self, tags: Any) -> bool:
        if isinstance(tags, dict):
            return self(*tags.values())
        return self(*[t.get("Value") or t.get("value") or t.get("TagValue") for t in tags or []])
