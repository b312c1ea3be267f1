"""The Net Promoter Score of a set of 0-10 answers: the staff-recorded scores and the
customers' own survey answers are each counted this way, separately."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.satisfaction import PASSIVE_FROM, PROMOTER_FROM


@dataclass(frozen=True)
class Nps:
    answers: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> float | None:
        """% promoters (9-10, very happy) minus % detractors (0-6, unhappy), from -100 to 100."""
        if not self.answers:
            return None
        return round(100 * (self.promoters - self.detractors) / self.answers, 1)

    @classmethod
    def of(cls, scores: Iterable[int]) -> Nps:
        scores = list(scores)
        return cls(
            len(scores),
            sum(s >= PROMOTER_FROM for s in scores),
            sum(PASSIVE_FROM <= s < PROMOTER_FROM for s in scores),
            sum(s < PASSIVE_FROM for s in scores),
        )
