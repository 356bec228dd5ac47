"""The S3 media store (app/media/s3.py) against a local S3-compatible server, moto's
``moto_server``: each file stored whole with its type and a cache-forever header, deletes in
batches that ignore missing keys, keys checked; the back office's gallery end to end on it; a
store that cannot be reached or fails mid-upload leaves neither rows nor objects."""

import logging
import re
import shutil
import subprocess
import sys
import time
import uuid
from io import BytesIO
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from PIL import Image
from sqlalchemy import select

from app.app_factory import ConfigError, create_app
from app.catalog import images as gallery
from app.catalog.models import ProductImage
from app.errors import Unavailable
from app.extensions import db
from app.media.s3 import CACHE_CONTROL, RETRY_AFTER, S3Storage
from app.media.storage import LocalStorage, media_storage
from tests.helpers import PRODUCTION_CONFIG, admin_alerts, admin_form_token, count
from tests.servers import free_port

S3 = "app.media.s3.S3Storage"
CDN = "https://cdn.example.test/media/"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"


@pytest.fixture(scope="module")
def s3_server():
    """``moto_server`` on a free loopback port, answering; its base URL."""
    binary = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if binary is None:
        raise RuntimeError("moto_server is not installed: pip install -r requirements-dev.txt")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = s3_client(url)
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                client.list_buckets()
                break
            except EndpointConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def s3_client(endpoint_url: str):
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, region_name=REGION, **CREDENTIALS
    )


@pytest.fixture
def s3(s3_server):
    """A client of the server, to look at the bucket from outside the app."""
    client = s3_client(s3_server)
    yield client
    client.close()


@pytest.fixture
def bucket(s3) -> str:
    """An empty bucket of the test's own."""
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def s3_config(endpoint_url: str, bucket: str, **overrides) -> dict:
    """The settings that make the app store its media in ``bucket`` on ``endpoint_url``."""
    return {
        "MEDIA_STORAGE": S3,
        "MEDIA_S3_BUCKET": bucket,
        "MEDIA_S3_ENDPOINT_URL": endpoint_url,
        "MEDIA_S3_REGION": REGION,
        "MEDIA_S3_PREFIX": "media",
        "MEDIA_S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "MEDIA_S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "MEDIA_S3_ATTEMPTS": 1,  # a store that is down fails at once
        "MEDIA_S3_TIMEOUT": 5,
        **overrides,
    }


@pytest.fixture
def storage(app, s3_server, bucket) -> S3Storage:
    """The store the app builds from its settings (MEDIA_URL: a CDN's, from the marker)."""
    app.config.update(s3_config(s3_server, bucket))
    with app.app_context():
        store = media_storage()
    assert isinstance(store, S3Storage)
    return store


def object_names(s3, bucket: str) -> list[str]:
    """The name of every object in the bucket, sorted."""
    return sorted(
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    )


def objects(s3, bucket: str) -> dict[str, bytes]:
    """Every object in the bucket: its body by its name."""
    return {
        name: s3.get_object(Bucket=bucket, Key=name)["Body"].read()
        for name in object_names(s3, bucket)
    }


def jpeg(size=(400, 300)) -> bytes:
    output = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(output, "JPEG")
    return output.getvalue()


def gallery_url(product_id: int) -> str:
    return f"/admin/products/{product_id}/images/"


def upload(client, product_id: int, files, alt="A cup of tea"):
    page = client.get(gallery_url(product_id)).get_data(as_text=True)
    data = {
        "alt": alt,
        "images": [(BytesIO(data), name) for name, data in files],
        "csrf_token": admin_form_token(page),
    }
    return client.post(gallery_url(product_id), data=data, content_type="multipart/form-data")


def image_urls_on(html: str) -> list[str]:
    """Every URL the page's pictures load: each src, and each URL of each srcset."""
    urls = []
    for picture in re.findall(r"<picture>.*?</picture>", html, re.S):
        urls += re.findall(r'\ssrc="([^"]+)"', picture)
        for srcset in re.findall(r'srcset="([^"]+)"', picture):
            urls += [candidate.split()[0] for candidate in srcset.split(",")]
    return urls


# The store


@pytest.mark.app_config(MEDIA_URL=CDN)
def test_each_file_is_stored_whole_with_its_type_and_a_cache_forever_header(
    app, storage, s3, bucket
):
    webp, jpg = b"RIFF....WEBPVP8 fake", jpeg()

    storage.save("products/7/abc/160.webp", webp)
    storage.save("products/7/abc/160.jpg", jpg)

    assert objects(s3, bucket) == {
        "media/products/7/abc/160.jpg": jpg,
        "media/products/7/abc/160.webp": webp,
    }
    for name, media_type in [
        ("media/products/7/abc/160.webp", "image/webp"),
        ("media/products/7/abc/160.jpg", "image/jpeg"),
    ]:
        head = s3.head_object(Bucket=bucket, Key=name)
        assert (head["ContentType"], head["CacheControl"]) == (media_type, CACHE_CONTROL)
    assert storage.url("products/7/abc/160.webp") == CDN + "products/7/abc/160.webp"


@pytest.mark.app_config(MEDIA_URL=CDN)
def test_saving_a_key_again_replaces_its_object(app, storage, s3, bucket):
    storage.save("products/1/a/160.jpg", b"old")

    storage.save("products/1/a/160.jpg", b"new")

    assert objects(s3, bucket) == {"media/products/1/a/160.jpg": b"new"}


@pytest.mark.app_config(MEDIA_URL=CDN)
def test_delete_removes_the_objects_and_ignores_missing_keys(app, storage, s3, bucket, caplog):
    for key in ("products/1/a/160.webp", "products/1/a/160.jpg", "products/2/b/160.jpg"):
        storage.save(key, b"data")

    storage.delete(["products/1/a/160.webp", "products/1/a/160.jpg", "products/9/gone/160.jpg"])

    assert object_names(s3, bucket) == ["media/products/2/b/160.jpg"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    storage.delete([])  # nothing to do, no request


@pytest.mark.app_config(MEDIA_URL=CDN)
def test_more_than_1000_keys_are_deleted_in_batches_of_1000(app, storage, s3, bucket):
    keys = [f"products/1/k{number:04}/160.jpg" for number in range(2500)]
    stored = [keys[0], keys[999], keys[1000], keys[2499]]
    for key in stored:
        storage.save(key, b"data")
    storage.save("products/2/kept/160.jpg", b"data")
    batches: list[int] = []
    storage.client.meta.events.register(
        "provide-client-params.s3.DeleteObjects",
        lambda params, **_: batches.append(len(params["Delete"]["Objects"])),
    )

    storage.delete(keys)

    assert batches == [1000, 1000, 500]
    assert object_names(s3, bucket) == ["media/products/2/kept/160.jpg"]


@pytest.mark.parametrize(
    "key",
    [
        "../products/1/a/160.jpg",
        "products/../../etc/160.jpg",
        "/products/1/a/160.jpg",
        "products//1/160.jpg",
        "./products/1/160.jpg",
        "products\\1\\160.jpg",
    ],
)
@pytest.mark.app_config(MEDIA_URL=CDN)
def test_a_key_that_is_no_plain_relative_path_is_refused(app, storage, s3, bucket, key):
    with pytest.raises(ValueError, match="Not a media key"):
        storage.save(key, b"data")
    with pytest.raises(ValueError, match="Not a media key"):
        storage.delete(["products/1/ok/160.jpg", key])
    with pytest.raises(ValueError, match="Not a media key"):
        storage.url(key)
    assert object_names(s3, bucket) == []


@pytest.mark.app_config(MEDIA_URL=CDN)
def test_only_webp_and_jpeg_files_are_stored(app, storage, s3, bucket):
    with pytest.raises(ValueError, match="only WebP and JPEG"):
        storage.save("products/1/a/160.png", b"data")

    assert object_names(s3, bucket) == []


def test_a_store_that_refuses_the_file_raises_unavailable(s3_server, s3):
    store = S3Storage(s3, "no-such-bucket", CDN)

    with pytest.raises(Unavailable, match="could not be reached or refused") as caught:
        store.save("products/1/a/160.jpg", b"data")

    assert caught.value.retry_after == RETRY_AFTER
    assert isinstance(caught.value.__cause__, ClientError)


def test_a_store_that_cannot_be_reached_raises_on_save_and_logs_on_delete(caplog):
    closed = s3_client(f"http://127.0.0.1:{free_port()}")
    store = S3Storage(closed, "media", CDN)

    with pytest.raises(Unavailable) as caught:
        store.save("products/1/a/160.jpg", b"data")
    store.delete(["products/1/a/160.jpg"])

    assert isinstance(caught.value.__cause__, EndpointConnectionError)
    [logged] = [r.getMessage() for r in caplog.records if "deleting 1 objects" in r.getMessage()]
    assert logged.endswith("left: products/1/a/160.jpg")
    closed.close()


@pytest.mark.app_config(MEDIA_URL=CDN)
def test_the_app_builds_its_s3_store_once(app, s3_server, bucket):
    app.config.update(s3_config(s3_server, bucket))

    with app.app_context():
        first = media_storage()
    with app.app_context():
        assert media_storage() is first
    assert (first.bucket, first.prefix, first.base_url) == (bucket, "media/", CDN)


def test_the_local_store_still_reads_its_settings_at_each_call(app, tmp_path):
    app.config["MEDIA_ROOT"] = tmp_path / "one"
    with app.app_context():
        first = media_storage()
        app.config["MEDIA_ROOT"] = tmp_path / "two"
        second = media_storage()

    assert isinstance(first, LocalStorage)
    assert (first.root, second.root) == (tmp_path / "one", tmp_path / "two")


# The gallery end to end


@pytest.fixture
def s3_app(app, storage):
    """The app, its media in the test's bucket."""
    return app


@pytest.mark.app_config(MEDIA_URL=CDN)
def test_an_uploaded_image_is_stored_shown_from_media_url_and_deleted(
    s3_app, as_admin, s3, bucket, product_factory
):
    product_id = product_factory("Green Tea")

    response = upload(as_admin, product_id, [("cup.jpg", jpeg((1200, 800)))])

    assert response.status_code == 302
    with s3_app.app_context():
        [image] = db.session.scalars(select(ProductImage)).all()
        image_id, key, files = image.id, image.key, gallery.image_files(image)
    assert len(files) == 2 * 4  # 160, 480, 960 and 1200 (not 1600) wide, WebP and JPEG
    assert object_names(s3, bucket) == sorted(f"media/{file}" for file in files)
    head = s3.head_object(Bucket=bucket, Key=f"media/{key}/480.webp")
    assert (head["ContentType"], head["CacheControl"]) == ("image/webp", CACHE_CONTROL)

    page = as_admin.get("/products/green-tea")
    urls = image_urls_on(page.get_data(as_text=True))
    assert urls
    assert all(url.startswith(f"{CDN}{key}/") for url in urls), urls
    csp = page.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://cdn.example.test;" in csp

    gallery_page = as_admin.get(gallery_url(product_id)).get_data(as_text=True)
    response = as_admin.post(
        f"/admin/products/{product_id}/images/{image_id}/delete/",
        data={"csrf_token": admin_form_token(gallery_page)},
    )

    assert response.status_code == 302
    assert count(s3_app, ProductImage) == 0
    assert object_names(s3, bucket) == []


@pytest.mark.app_config(MEDIA_URL=CDN)
def test_a_store_that_cannot_be_reached_is_a_503_form_error_and_leaves_nothing(
    app, as_admin, product_factory, caplog
):
    app.config.update(s3_config(f"http://127.0.0.1:{free_port()}", "media"))
    product_id = product_factory("Green Tea")

    response = upload(as_admin, product_id, [("cup.jpg", jpeg())])

    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    assert admin_alerts(html) == [
        "The image store could not be reached or refused the file, so nothing was stored. "
        "Try again in a minute; if this goes on, check the MEDIA_S3_ settings."
    ]
    assert 'value="A cup of tea"' in html  # the form again, as typed
    assert "Traceback" not in html
    assert count(app, ProductImage) == 0


@pytest.mark.app_config(MEDIA_URL=CDN)
def test_a_store_failing_mid_upload_leaves_neither_rows_nor_objects(
    s3_app, storage, as_admin, s3, bucket, product_factory, monkeypatch
):
    product_id = product_factory("Green Tea")
    put_object = storage.client.put_object
    calls = []

    def put_then_fail(**params):
        calls.append(params["Key"])
        if len(calls) == 3:
            raise EndpointConnectionError(endpoint_url="http://s3.invalid")
        return put_object(**params)

    monkeypatch.setattr(storage.client, "put_object", put_then_fail)

    response = upload(as_admin, product_id, [("cup.jpg", jpeg((1200, 800)))])

    assert response.status_code == 503
    assert len(calls) == 3  # two objects were stored before the store failed
    assert count(s3_app, ProductImage) == 0
    assert object_names(s3, bucket) == []


# Production


def test_production_refuses_the_s3_store_without_a_bucket():
    with pytest.raises(ConfigError, match="MEDIA_STORAGE is app.media.s3.S3Storage without"):
        create_app({**PRODUCTION_CONFIG, "MEDIA_STORAGE": S3})

    started = create_app(
        {**PRODUCTION_CONFIG, "MEDIA_STORAGE": S3, "MEDIA_S3_BUCKET": "shop-media"}
    )
    assert started.config["MEDIA_S3_BUCKET"] == "shop-media"
