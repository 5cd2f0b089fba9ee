"""The two stores behind one interface: ``protocol`` (the :class:`Store` protocol and its
records), ``postgis`` (production; Alembic ``migrations``, ``schema``) and ``geopackage``
(embedded; ``gpkg_blob``), with ``frames`` for what both do to rows. :func:`open_store` opens
the configured one: PostGIS when a database URL is given, else the GeoPackage."""

from __future__ import annotations

from pathlib import Path

from geo.stores.protocol import Store


def open_store(*, database_url: str | None, gpkg_path: Path, read_only: bool = False) -> Store:
    """The PostGIS store for ``database_url``, or the embedded store at ``gpkg_path``.

    The embedded store opens read-only when ``read_only`` (``RISKMAP_READ_ONLY=1``) or when
    the file cannot be written (a write-protected medium, no permission): it then serves and
    can be inspected, and refuses writes with one line naming the file.
    Does not touch the database; call ``init_schema()`` (or ``check()`` on PostGIS).
    Raises :class:`geo.stores.protocol.StoreError` for a malformed URL.
    """
    if database_url:  # each store's libraries are imported only when it is used (~1 s for PostGIS)
        from geo.stores.postgis import PostGISStore

        return PostGISStore(database_url)
    from geo.stores.geopackage import GeoPackageStore

    return GeoPackageStore(gpkg_path, read_only=True if read_only else None)
