"""What a check says: a status, an advice key for the patient and measured values."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.base.status import CheckStatus


@dataclass(frozen=True)
class CheckResult:
    """One check's answer. `advice` is a message key ("light.too_dark"); `figures` holds the
    measurements behind it, for the maintenance screen, logs and benchmarks."""

    name: str
    status: CheckStatus
    advice: str
    figures: tuple[tuple[str, float], ...] = ()

    def figure(self, key: str) -> float | None:
        return dict(self.figures).get(key)

    @property
    def detail(self) -> str:
        return " ".join(f"{key}={value:g}" for key, value in self.figures)


@dataclass(frozen=True)
class CheckReport:
    """Every check's newest answer, in screen order."""

    results: tuple[CheckResult, ...]
    elapsed_s: float

    @property
    def complete(self) -> bool:
        return all(r.status is not CheckStatus.RUNNING for r in self.results)

    def get(self, name: str) -> CheckResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"expected a check named {name!r}, have {[r.name for r in self.results]}")


@dataclass
class History:
    """The successive (status, advice) a check went through, each change once."""

    changes: list[tuple[CheckStatus, str]] = field(default_factory=list)

    def note(self, result: CheckResult) -> CheckResult:
        pair = (result.status, result.advice)
        if not self.changes or self.changes[-1] != pair:
            self.changes.append(pair)
        return result
