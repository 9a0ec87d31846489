"""Hyperscalers and AI labs (US bloc and China): buy compute every month, invest in porting."""

from __future__ import annotations

from agents.buyer import Buyer


class Hyperscaler(Buyer):
    """A US-bloc or Chinese hyperscaler; China's state-funded ones are bound by mandates."""

    @property
    def state_funded(self) -> bool:
        return bool(self.model.buyers.state_funded[self.bidx])

    @property
    def software_estate(self) -> float:
        return float(self.model.buyers.estate[self.bidx])
