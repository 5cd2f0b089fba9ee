"""The :class:`Geocoder`: an address in, a :class:`GeocodeResult` out, cached, with an
optional online provider for answers coarser than a township."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from geo.geocoder.address import normalise_address
from geo.geocoder.gazetteer import Gazetteer
from geo.geocoder.matching import geocode_offline
from geo.geocoder.results import GeocodeResult, OnlineProvider, merge_online, with_query


class Geocoder:
    """Address -> :class:`GeocodeResult` using a :class:`Gazetteer`; pure and cached.

    ``cache_size``: results kept (LRU, by normalised address; 0 disables the cache).
    ``online``: an optional :class:`OnlineProvider`, asked only when the offline answer
    is coarser than a township; its answer is used when finer and not contradicting the
    offline district.
    """

    #: Offline precisions for which the online provider is consulted.
    ONLINE_WHEN: frozenset[str] = frozenset({"district", "city", "province", "none"})

    def __init__(
        self,
        gazetteer: Gazetteer,
        *,
        cache_size: int = 100_000,
        online: OnlineProvider | None = None,
    ) -> None:
        self.gazetteer = gazetteer
        self.online = online
        self.cache_size = cache_size
        self._cached: Callable[[str], GeocodeResult] = (
            lru_cache(maxsize=cache_size)(self._geocode_normalised) if cache_size > 0 else self._geocode_normalised
        )

    def geocode(self, address: str) -> GeocodeResult:
        """Geocode one address; never raises for any string (empty -> precision none)."""
        if not isinstance(address, str):
            address = "" if address is None else str(address)
        result = self._cached(normalise_address(address))
        return result if result.query == address else with_query(result, address)

    def geocode_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        """Geocode a batch; repeated addresses are geocoded once."""
        seen: dict[str, GeocodeResult] = {}
        out: list[GeocodeResult] = []
        for address in addresses:
            result = seen.get(address)
            if result is None:
                result = seen[address] = self.geocode(address)
            out.append(result)
        return out

    def cache_info(self) -> Any:
        """functools cache statistics (hits, misses, maxsize, currsize), or None."""
        info = getattr(self._cached, "cache_info", None)
        return info() if info else None

    def clear_cache(self) -> None:
        clear = getattr(self._cached, "cache_clear", None)
        if clear:
            clear()

    def _geocode_normalised(self, text: str) -> GeocodeResult:
        offline = geocode_offline(self.gazetteer, text)
        if self.online is not None and offline.precision in self.ONLINE_WHEN and text:
            return merge_online(offline, self.online.geocode(text), self.online.name)
        return offline
