"""What every procedure receives: the checked config, the release TAG and the compose runner."""

from dataclasses import dataclass

from .compose import Compose
from .config import OpsConfig


@dataclass(frozen=True)
class OpsContext:
    config: OpsConfig
    tag: str | None = None

    @property
    def compose(self) -> Compose:
        return Compose(self.config, self.tag)

    def with_tag(self, tag: str) -> "OpsContext":
        return OpsContext(self.config, tag)
