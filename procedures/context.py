"""What every procedure receives: the checked config, the release TAG, the compose runner and the engine.

An OpsContext is a plain value: making one changes nothing. `prepare` is the one step that readies the
host for commands on it, and `prepared_context` makes a context and prepares it, where a run starts.
"""

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
        """The same stack at another TAG, prepared: its compose commands render that TAG from here on."""
        return prepared_context(self.config, tag)


def prepare(ctx: OpsContext) -> OpsContext:
    """Ready the host for commands on ctx and return it: the runner's limits from its [timeouts], the
    generated overlay ([stack] overlay) written for its config and TAG, its names known to the redactor."""
    use_timeouts(ctx.config.timeouts)
    write_overlay(ctx.config, ctx.engine, ctx.tag)  # compose reads it: before any compose command
    register_config_identifiers(ctx.config, ctx.tag)  # before any evidence names them
    return ctx


def prepared_context(config: OpsConfig, tag: str | None = None) -> OpsContext:
    """A context for config at tag, prepared (see `prepare`): where a run, or a derived stack, begins."""
    return prepare(OpsContext(config, tag))
