"""The set a restore or a rehearsal works from: its name, its manifest and where its files lie."""

from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import names


@dataclass(frozen=True)
class Chosen:
    set_name: str
    manifest: dict
    folder: str = ""  # inside the backups volume: "" or where a set fetched from the remote lies
    # The crypt remote a fetched set was decrypted through ("" when local or plaintext): its
    # checksums equal the manifest's, so the key decrypts.
    decrypted_through: str = ""
    downloaded: list[dict] = field(default_factory=list)  # a fetched set's copies: rclone's final figures

    @property
    def dump_file(self) -> str:
        return self.manifest["dump"]["file"]

    @property
    def dump_in_backups(self) -> str:
        """The dump's path relative to the backups volume."""
        return "/".join(part for part in (self.folder, self.dump_file) if part)

    @property
    def age_seconds(self) -> float:
        taken = names.parse_set_name(self.set_name).taken_at
        return (datetime.now(timezone.utc) - taken).total_seconds()
