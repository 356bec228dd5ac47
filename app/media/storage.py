"""Where media files live, behind one small interface: ``save(key, data)``, ``delete(keys)``,
``url(key)``. A key is a relative, slash-separated path (``products/7/3f9c.../480.webp``).

``MEDIA_STORAGE`` names the class (``LocalStorage``, the default); ``media_storage()`` builds it
from the app's config with ``from_config``.

An S3-compatible store (AWS S3, MinIO, Garage, R2) implements the same four methods with
boto3, the bucket and a public base URL read from its own settings in ``from_config``
(``app.media.s3.S3Storage`` does):

- ``save``: ``put_object(Bucket=..., Key=prefix + key, Body=data, ContentType=...,
  CacheControl="public, max-age=31536000, immutable")``. A PUT is atomic: readers see the whole
  old object or the whole new one, never a part, so no temporary name is needed.
- ``delete``: ``delete_objects`` in batches of at most 1,000 keys; a missing key is no error.
- ``url``: the public base URL (a CDN in front of the bucket) joined with the key; private
  buckets would hand out ``generate_presigned_url`` links instead.
Keys never change content (a new upload gets a new key), so every store may cache forever.
"""

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Protocol

from flask import Config, current_app
from werkzeug.utils import import_string

# Files are published for the web server (uwsgi's static map) to read.
FILE_MODE = 0o644


class Storage(Protocol):
    """A place to keep media files by key and the public URL of each."""

    def save(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, whole or not at all, replacing what was there."""

    def delete(self, keys: Iterable[str]) -> None:
        """Remove these keys' files; keys that hold nothing are ignored."""

    def url(self, key: str) -> str:
        """The URL browsers load ``key`` from."""


def media_storage() -> Storage:
    """The current app's store, as ``MEDIA_STORAGE`` names it: built from the config at each
    call, or, for a class whose ``per_app`` is true (a client slow to make, such as
    ``S3Storage``'s), once per app at first use and kept in ``app.extensions``."""
    config, instance_path = current_app.config, current_app.instance_path
    storage_class = import_string(config["MEDIA_STORAGE"])
    if not getattr(storage_class, "per_app", False):
        return storage_class.from_config(config, instance_path)
    stores = current_app.extensions.setdefault("media_storage", {})
    if storage_class not in stores:
        # Two threads may both build one; the first kept is the one every caller gets.
        stores.setdefault(storage_class, storage_class.from_config(config, instance_path))
    return stores[storage_class]


def checked_key(key: str) -> PurePosixPath:
    """``key`` as a relative path that stays below the store's root; ValueError otherwise."""
    path = PurePosixPath(key)
    # PurePosixPath drops "." parts and doubled slashes: a key it changes is no plain key.
    if "\\" in key or path.is_absolute() or ".." in path.parts or str(path) != key:
        raise ValueError(f"Not a media key: {key!r}")
    return path


class LocalStorage:
    """Files in a folder (``MEDIA_ROOT``, default ``<instance>/media``), served under
    ``MEDIA_URL`` (by uwsgi's static map in production)."""

    def __init__(self, root: Path, base_url: str):
        self.root = root
        self.base_url = base_url.rstrip("/") + "/"

    @classmethod
    def from_config(cls, config: Config, instance_path: str) -> "LocalStorage":
        root = config["MEDIA_ROOT"] or Path(instance_path) / "media"
        return cls(Path(root), config["MEDIA_URL"])

    def path(self, key: str) -> Path:
        return self.root.joinpath(*checked_key(key).parts)

    def save(self, key: str, data: bytes) -> None:
        """Written to a temporary file beside the target, then renamed over it: a reader
        (the web server) sees the whole file or none, never a part."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, FILE_MODE)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def delete(self, keys: Iterable[str]) -> None:
        """Each file removed, then its folders up to the root while they are empty."""
        folders = set()
        for key in keys:
            path = self.path(key)
            path.unlink(missing_ok=True)
            folders.add(path.parent)
        for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
            self._remove_empty(folder)

    def _remove_empty(self, folder: Path) -> None:
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty (or gone already): its parents are not empty either
                return
            folder = folder.parent

    def url(self, key: str) -> str:
        return self.base_url + str(checked_key(key))
