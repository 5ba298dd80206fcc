""":class:`Outcome`: what a successful run produced, as plain Python values.

Built from a library snapshot (``provision_last_outcome``) whose strings are
copied into Python before the snapshot is freed, so an Outcome stays valid
and unchanged whatever the handle or other threads do afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Tuple

from . import _ffi

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

    @classmethod
    def _from_snapshot(cls, snapshot: Any) -> "Outcome":
        """Copies a ``provision_outcome_t`` into Python and frees it."""
        try:
            provisioned = _ffi.decode(_ffi.outcome_provisioned(snapshot)) or ""
            return cls(
                config=_ffi.decode(_ffi.outcome_config(snapshot)) or "",
                source_url=_ffi.decode(_ffi.outcome_source_url(snapshot)),
                from_cache=bool(_ffi.outcome_from_cache(snapshot)),
                provisioned=tuple(s for s in provisioned.split(",") if s),
            )
        finally:
            _ffi.outcome_free(snapshot)
