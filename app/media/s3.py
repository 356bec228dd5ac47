"""Media in an S3-compatible bucket (AWS S3, MinIO, Garage, R2, Ceph), through boto3:
``MEDIA_STORAGE = "app.media.s3.S3Storage"``. Browsers load the files from ``MEDIA_URL``, the
bucket's public address or a CDN in front of it; the app never serves them.

The bucket (``MEDIA_S3_BUCKET``), its endpoint (``MEDIA_S3_ENDPOINT_URL``, None: AWS), region
and key prefix are settings; the credentials come from boto3's usual chain (the environment's
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, ~/.aws, an instance role) unless
``MEDIA_S3_ACCESS_KEY_ID`` / ``MEDIA_S3_SECRET_ACCESS_KEY`` are set in instance/.
"""

import logging
from collections.abc import Iterable
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from flask import Config

from app.errors import Unavailable
from app.media.storage import checked_key

log = logging.getLogger(__name__)

# Keys never change content (a new upload gets a new key): every cache may keep a file forever.
CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPES = {"webp": "image/webp", "jpg": "image/jpeg", "jpeg": "image/jpeg"}
DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
RETRY_AFTER = 60  # seconds, in the Retry-After of the 503 when the store does not answer


def content_type(key: str) -> str:
    """The MIME type a browser is told for ``key``, by its extension; ValueError for others."""
    extension = key.rpartition(".")[2].lower()
    if extension not in CONTENT_TYPES:
        raise ValueError(f"No media type for {key!r}: only WebP and JPEG files are stored.")
    return CONTENT_TYPES[extension]


class S3Storage:
    """Files as objects in a bucket, in the folder ``prefix`` (``"media"``: objects named
    ``media/products/...``); a file's URL is ``base_url`` joined with its key, so ``base_url``
    is the folder's public URL (``https://bucket.s3.eu-central-1.amazonaws.com/media/``, or a
    CDN's)."""

    # media_storage() builds one per app and keeps it: a boto3 client is slow to make (it
    # loads the service's model), and it is safe to share between threads.
    per_app = True

    def __init__(self, client: Any, bucket: str, base_url: str, prefix: str = ""):
        self.client = client
        self.bucket = bucket
        self.base_url = base_url.rstrip("/") + "/"
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_config(cls, config: Config, instance_path: str) -> "S3Storage":
        bucket = config["MEDIA_S3_BUCKET"]
        if not bucket:
            raise RuntimeError("MEDIA_STORAGE is S3Storage, but MEDIA_S3_BUCKET is not set.")
        timeout = config["MEDIA_S3_TIMEOUT"]
        # A session of its own: boto3's default session is not safe to share between threads.
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=config["MEDIA_S3_ENDPOINT_URL"],
            region_name=config["MEDIA_S3_REGION"],
            aws_access_key_id=config["MEDIA_S3_ACCESS_KEY_ID"],
            aws_secret_access_key=config["MEDIA_S3_SECRET_ACCESS_KEY"],
            config=BotoConfig(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"mode": "standard", "max_attempts": config["MEDIA_S3_ATTEMPTS"]},
            ),
        )
        return cls(client, bucket, config["MEDIA_URL"], config["MEDIA_S3_PREFIX"] or "")

    def object_key(self, key: str) -> str:
        """The object's name in the bucket: the prefix, then the checked key."""
        return self.prefix + str(checked_key(key))

    def save(self, key: str, data: bytes) -> None:
        """One PUT, which S3 applies whole or not at all.

        :raises Unavailable: the store did not answer, or refused the file.
        """
        name = self.object_key(key)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=data,
                ContentType=content_type(key),
                CacheControl=CACHE_CONTROL,
            )
        except (BotoCoreError, ClientError) as error:
            log.error("Media store: storing %s in bucket %s failed: %s", name, self.bucket, error)
            raise Unavailable(
                "The image store could not be reached or refused the file, so nothing was "
                "stored. Try again in a minute; if this goes on, check the MEDIA_S3_ settings.",
                RETRY_AFTER,
            ) from error

    def delete(self, keys: Iterable[str]) -> None:
        """DeleteObjects, 1,000 keys a request; S3 counts a missing key as deleted.

        A store that fails is logged with the objects left behind, not raised: a delete runs
        once the rows are gone (committed) or while an upload that failed already cleans up,
        and a few stray objects are all it costs."""
        names = [self.object_key(key) for key in keys]
        for start in range(0, len(names), DELETE_BATCH):
            batch = names[start : start + DELETE_BATCH]
            try:
                answer = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True},
                )
            except (BotoCoreError, ClientError) as error:
                log.error(
                    "Media store: deleting %d objects from bucket %s failed (%s); left: %s",
                    len(batch),
                    self.bucket,
                    error,
                    ", ".join(batch),
                )
                continue
            for failed in answer.get("Errors", []):
                log.error(
                    "Media store: object %s in bucket %s was not deleted: %s %s",
                    failed.get("Key"),
                    self.bucket,
                    failed.get("Code"),
                    failed.get("Message"),
                )

    def url(self, key: str) -> str:
        return self.base_url + str(checked_key(key))
