"""robots.txt (RFC 9309): user-agent groups, longest-match Allow/Disallow, Crawl-delay, Sitemap."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309: crawlers may ignore what follows 500 KiB


@dataclass(slots=True)
class Rule:
    allow: bool
    pattern: str
    regex: re.Pattern[str]


@dataclass(slots=True)
class Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    crawl_delay: float | None = None


@dataclass(slots=True)
class Robots:
    groups: list[Group] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    allow_all: bool = False  # 4xx robots.txt: no rules
    deny_all: bool = False  # 5xx / unreachable: assume complete disallow (RFC 9309)
    deny_reason: str = "robots"  # what a refusal is counted as

    def group_for(self, agent: str) -> Group | None:
        """The group of the most specific matching product token, else the * group."""
        token = agent.split("/")[0].strip().lower()
        best: Group | None = None
        star: Group | None = None
        for group in self.groups:
            for name in group.agents:
                if name == "*":
                    star = star or group
                elif token and (token.startswith(name) or name.startswith(token)):
                    best = best or group
        return best or star

    def allowed(self, agent: str, path: str) -> bool:
        """Longest matching rule wins; Allow wins a tie; no rule means allowed."""
        if self.deny_all:
            return False
        if self.allow_all:
            return True
        group = self.group_for(agent)
        if group is None or path == "/robots.txt":
            return True
        path = _decode_path(path)
        verdict, length = True, -1
        for rule in group.rules:
            if rule.regex.match(path):
                size = len(rule.pattern)
                if size > length or (size == length and rule.allow):
                    verdict, length = rule.allow, size
        return verdict

    def crawl_delay(self, agent: str) -> float | None:
        group = self.group_for(agent)
        return group.crawl_delay if group else None


def parse_robots(text: str) -> Robots:
    robots = Robots()
    current: Group | None = None
    in_agents = False  # consecutive user-agent lines share one group
    for raw in text[:MAX_ROBOTS_BYTES].splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if current is None or not in_agents:
                current = Group()
                robots.groups.append(current)
            current.agents.append(value.lower())
            in_agents = True
            continue
        in_agents = False
        if key == "sitemap" and value:
            robots.sitemaps.append(value)
        elif current is not None and key in ("allow", "disallow"):
            if value:  # an empty Disallow allows everything: no rule
                current.rules.append(Rule(key == "allow", value, _compile(value)))
        elif current is not None and key == "crawl-delay":
            with contextlib.suppress(ValueError):
                current.crawl_delay = max(0.0, float(value))
    return robots


def _compile(pattern: str) -> re.Pattern[str]:
    """* matches any run of characters, a final $ anchors the end."""
    anchored = pattern.endswith("$")
    body = _decode_path(pattern[:-1] if anchored else pattern)
    regex = ".*".join(re.escape(piece) for piece in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""))


def _decode_path(path: str) -> str:
    # Compare decoded forms so /a%62c and /abc are the same path (but keep %2F).
    return unquote(path.replace("%2F", "%252F").replace("%2f", "%252F"))
