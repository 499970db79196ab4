"""What every benchmark returns, and the Django setup they share."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figure:
    name: str
    ours_seconds: float
    baseline_name: str = ""
    baseline_seconds: float = 0.0
    limit_ratio: float | None = None  # the target: ours / baseline must stay at or under this
    rows: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.ours_seconds / self.baseline_seconds if self.baseline_seconds else None

    @property
    def verdict(self) -> str:
        if self.limit_ratio is None or self.ratio is None:
            return ""
        return "PASS" if self.ratio <= self.limit_ratio else "FAIL"


def django_setup() -> None:
    """Configure Django for a benchmark process (DATABASE_URL and SCHOOLSMS_VAR_DIR apply)."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolsms.settings")
    django.setup()
