""":class:`Outcome`: what a successful run produced, as plain Python values.

Built from a library snapshot (``provision_last_outcome``) whose strings are
copied into Python before the snapshot is freed, so an Outcome stays valid
and unchanged whatever the handle or other threads do afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

__all__ = ["Outcome"]


@dataclass(frozen=True)
class Outcome:
    """The result of the last successful run of a handle."""

    config: str
    """The merged config."""
    source_url: Optional[str]
    """The base URL, as written in the provision file, that served; ``None``
    when the last-known-good cache served (:attr:`from_cache`)."""
    from_cache: bool
    """Whether every URL failed and the cache served (``Status.CACHED``)."""
    provisioned: Tuple[str, ...]
    """The sections the run provisioned, in significant-section order."""

    def is_provisioned(self, section: str) -> bool:
        """Whether the run provisioned ``section``."""
        return section in self.provisioned
