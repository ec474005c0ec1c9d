"""What every procedure receives: the checked config, the release TAG, the compose runner and the engine."""

from dataclasses import dataclass

from .compose import Compose
from .config import OpsConfig
from .engines import Engine, engine_for
from .identifiers import register_config_identifiers
from .overlay import write_overlay
from .runner import use_timeouts


@dataclass(frozen=True)
class OpsContext:
    config: OpsConfig
    tag: str | None = None

    def __post_init__(self):
        # Every command from here on runs within this stack's [timeouts], and a generated overlay
        # ([stack] overlay) must match the config before any compose command.
        use_timeouts(self.config.timeouts)
        write_overlay(self.config, self.engine, self.tag)
        register_config_identifiers(self.config, self.tag)  # before any evidence names them

    @property
    def compose(self) -> Compose:
        return Compose(self.config, self.tag)

    @property
    def engine(self) -> Engine:
        return engine_for(self.config)

    @property
    def database(self):
        """The stack's live database, as its engine reaches it."""
        return self.engine.live(self)

    def with_tag(self, tag: str) -> "OpsContext":
        return OpsContext(self.config, tag)
