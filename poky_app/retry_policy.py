"""When a failed attempt is tried again, and after how long: the task type's retry policy.

Like AWS Batch's retryStrategy: ``max_attempts`` in all, and ``on_exit`` rules matched in order
against the exit code and the failure's reason (glob patterns); the first match decides "retry" or
"exit", and a failure no rule matches is retried while attempts remain. Cancelled jobs are never
retried. Backoff doubles per attempt up to a ceiling, with jitter so that many jobs failing
together (a capacity shortage) do not come back together. Pure: the caller passes the randomness.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RETRY, EXIT = "retry", "exit"


@dataclass(frozen=True)
class ExitRule:
    action: str
    exit_codes: tuple[int, ...] | None = None
    reasons: tuple[str, ...] | None = None

    def matches(self, exit_code: int | None, reason: str) -> bool:
        if self.exit_codes is not None and exit_code not in self.exit_codes:
            return False
        return self.reasons is None or any(fnmatch.fnmatchcase(reason, pattern) for pattern in self.reasons)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 1
    backoff_seconds: float = 10.0
    max_backoff_seconds: float = 600.0
    on_exit: tuple[ExitRule, ...] = field(default_factory=tuple)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RetryPolicy:
        rules = []
        for rule in data.get("on_exit", []):
            action = rule.get("action", RETRY)
            if action not in (RETRY, EXIT):
                raise ValueError(f"retry.on_exit action must be {RETRY!r} or {EXIT!r}, not {action!r}")
            codes = rule.get("exit_codes")
            reasons = rule.get("reasons")
            rules.append(ExitRule(action, tuple(int(c) for c in codes) if codes is not None else None,
                                  tuple(reasons) if reasons is not None else None))
        policy = cls(max_attempts=int(data.get("max_attempts", 1)),
                     backoff_seconds=float(data.get("backoff_seconds", 10.0)),
                     max_backoff_seconds=float(data.get("max_backoff_seconds", 600.0)), on_exit=tuple(rules))
        if policy.max_attempts < 1 or policy.backoff_seconds < 0 or policy.max_backoff_seconds < 0:
            raise ValueError("retry: max_attempts must be at least 1 and backoffs not negative")
        return policy

    def should_retry(self, attempt: int, exit_code: int | None, reason: str) -> bool:
        if attempt >= self.max_attempts or reason == "Cancelled":
            return False
        for rule in self.on_exit:
            if rule.matches(exit_code, reason):
                return rule.action == RETRY
        return True

    def delay(self, attempt: int, random: Callable[[], float]) -> float:
        """Seconds before attempt ``attempt + 1``: doubling backoff, then half to all of it (jitter)."""
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** max(attempt - 1, 0))
        return ceiling * (0.5 + 0.5 * random())


def launch_backoff(tries: int, random: Callable[[], float], base: float = 1.0, ceiling: float = 60.0) -> float:
    """Seconds before launching again after ``tries`` retryable launch failures (throttling, capacity)."""
    return min(ceiling, base * 2 ** max(tries - 1, 0)) * (0.5 + 0.5 * random())
