"""Lake: the storage root, its catalog and the settings that describe its datasets."""

from __future__ import annotations

from dataclasses import dataclass

from campuslake.config import Settings
from campuslake.errors import ConfigError
from campuslake.lake.catalog import Catalog
from campuslake.lake.storage import LakeStorage
from campuslake.lake.zones import CATALOG_FILE


@dataclass
class Lake:
    settings: Settings
    storage: LakeStorage
    catalog: Catalog

    @classmethod
    def open(cls, settings: Settings) -> Lake:
        storage = LakeStorage(settings.lake)
        url = settings.catalog_url
        if url is None:
            if not storage.is_local:
                raise ConfigError("a lake on object storage needs catalog_url (e.g. a PostgreSQL URL)",
                                  lake=settings.lake)
            storage.make_dirs("_catalog")
            url = f"sqlite:///{storage.path(CATALOG_FILE)}"
        return cls(settings=settings, storage=storage, catalog=Catalog(url))

    def close(self) -> None:
        self.catalog.dispose()
