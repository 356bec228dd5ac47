"""A product's gallery: uploading, ordering, describing and deleting its images, and the URLs
a page or the API shows them at.

Files and rows change together or not at all. An upload is checked and re-encoded whole before
anything is written; then its files are written, then its rows in one unit of work; if the
unit fails, the files written go again. A deleted image's files go once its row's deletion is
committed; so do a product's with ``delete_product`` (its rows cascade in the database, which
knows nothing of the files).
"""

import secrets
from collections.abc import Sequence
from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select

from app.catalog.models import ALT_MAX_LENGTH, Product, ProductImage, Variant
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.media.processing import ProcessedImage, process_image
from app.media.storage import media_storage
from app.transactions import atomic, in_unit, on_commit

EXTENSIONS = ("webp", "jpg")  # what each width is stored as, the fallback last


class Upload(NamedTuple):
    """One uploaded file: its name (for messages only), its bytes, and its alt text."""

    filename: str
    data: bytes
    alt: str


def add_images(product_id: int, uploads: Sequence[Upload | tuple[str, bytes, str]]) -> list[int]:
    """Add these images to the end of the product's gallery, all or none; their ids.

    Not to be called inside another unit of work: the files are written before the rows are
    committed, and removed again only when this function sees the commit fail.

    :raises NotFound: no such product.
    :raises ValidationFailed: no upload, too many, an alt text missing or too long, or a file
        that is not a usable image (``images``: one message per bad file).
    """
    if in_unit():
        raise RuntimeError("add_images writes files: call it outside any unit of work.")
    files = [Upload(*upload) for upload in uploads]
    _check_count(product_id, len(files))
    processed = _processed(files)
    written: list[str] = []
    storage = media_storage()
    try:
        keys = []
        for image in processed:
            key = _new_key(product_id)
            for rendition in image.renditions:
                file_key = f"{key}/{rendition.width}.{rendition.extension}"
                written.append(file_key)
                storage.save(file_key, rendition.data)
            keys.append(key)
        return _insert_images(product_id, files, processed, keys)
    except BaseException:
        storage.delete(written)
        raise


def _check_count(product_id: int, adding: int) -> None:
    if db.session.get(Product, product_id) is None:
        raise NotFound("No such product.")
    per_upload = current_app.config["PRODUCT_IMAGES_PER_UPLOAD"]
    if adding == 0:
        raise ValidationFailed("Choose an image to upload.", {"images": ["Choose an image."]})
    if adding > per_upload:
        message = f"Upload at most {per_upload} images at once."
        raise ValidationFailed(message, {"images": [message]})
    _check_gallery_room(product_id, adding)


def _check_gallery_room(product_id: int, adding: int) -> None:
    most = current_app.config["PRODUCT_IMAGES_MAX"]
    count = db.session.scalar(
        select(func.count()).select_from(ProductImage).where(ProductImage.product_id == product_id)
    )
    if (count or 0) + adding > most:
        message = f"A product has at most {most} images: delete some first."
        raise ValidationFailed(message, {"images": [message]})


def _processed(uploads: list[Upload]) -> list[ProcessedImage]:
    """Each upload checked and re-encoded; every problem of every file in one error."""
    errors: dict[str, list[str]] = {}
    processed = []
    for upload in uploads:
        try:
            checked_alt(upload.alt)
        except ValidationFailed as error:
            errors.setdefault("alt", []).append(f"{upload.filename}: {error.message}")
        try:
            processed.append(process_image(upload.data, upload.filename or "The file"))
        except ValidationFailed as error:
            errors.setdefault("images", []).extend((error.fields or {}).get("images", []))
    if errors:
        raise ValidationFailed("Nothing was uploaded: " + _first(errors), errors)
    return processed


def _first(errors: dict[str, list[str]]) -> str:
    return next(message for messages in errors.values() for message in messages)


def _new_key(product_id: int) -> str:
    """A folder of its own for each image: a new upload never overwrites a file a browser or
    a CDN may have cached."""
    return f"products/{product_id}/{secrets.token_hex(16)}"


@atomic
def _insert_images(
    product_id: int, uploads: list[Upload], processed: list[ProcessedImage], keys: list[str]
) -> list[int]:
    # The product locked: uploads to one gallery take their positions one after the other.
    product = db.session.get(Product, product_id, with_for_update=True)
    if product is None:
        raise NotFound("No such product.")
    _check_gallery_room(product_id, len(uploads))
    last = db.session.scalar(
        select(func.max(ProductImage.position)).where(ProductImage.product_id == product_id)
    )
    start = -1 if last is None else last
    images = [
        ProductImage(
            product_id=product_id,
            position=start + index,
            alt=checked_alt(upload.alt),
            key=key,
            width=image.width,
            height=image.height,
            widths=",".join(map(str, image.widths)),
        )
        for index, (upload, image, key) in enumerate(
            zip(uploads, processed, keys, strict=True), start=1
        )
    ]
    db.session.add_all(images)
    db.session.flush()
    return [image.id for image in images]


def checked_alt(alt: str) -> str:
    """The alt text stripped; it is required and at most ALT_MAX_LENGTH characters.

    :raises ValidationFailed: empty or too long (field ``alt``).
    """
    text = " ".join((alt or "").split())
    if not text:
        message = "Describe what the image shows (alt text), for those who cannot see it."
        raise ValidationFailed(message, {"alt": [message]})
    if len(text) > ALT_MAX_LENGTH:
        message = f"Alt text is at most {ALT_MAX_LENGTH} characters."
        raise ValidationFailed(message, {"alt": [message]})
    return text


@atomic
def reorder_images(product_id: int, ordered_ids: Sequence[int]) -> None:
    """Put the product's gallery in this order: its images' ids, each once.

    :raises NotFound: no such product.
    :raises ValidationFailed: the ids are not exactly the product's images (another admin
        may have added or deleted one meanwhile).
    """
    if db.session.get(Product, product_id, with_for_update=True) is None:
        raise NotFound("No such product.")
    images = {
        image.id: image
        for image in db.session.scalars(
            select(ProductImage).where(ProductImage.product_id == product_id)
        )
    }
    if sorted(ordered_ids) != sorted(images) or len(set(ordered_ids)) != len(ordered_ids):
        message = "The gallery changed meanwhile: reload the page and order it again."
        raise ValidationFailed(message, {"images": [message]})
    for position, image_id in enumerate(ordered_ids):
        images[image_id].position = position


@atomic
def move_image(image_id: int, offset: int) -> None:
    """Move an image ``offset`` places in its gallery (-1: one up, 1: one down), decided on the
    gallery as it is now; past either end it stays there.

    :raises NotFound: no such image.
    """
    image = _image(image_id)
    db.session.get(Product, image.product_id, with_for_update=True)
    ordered = list(
        db.session.scalars(
            select(ProductImage)
            .where(ProductImage.product_id == image.product_id)
            .order_by(ProductImage.position, ProductImage.id)
        )
    )
    index = ordered.index(image)
    target = min(max(index + offset, 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(index))
    for position, each in enumerate(ordered):
        each.position = position


@atomic
def set_alt(image_id: int, alt: str) -> ProductImage:
    """Change an image's alt text.

    :raises NotFound: no such image.
    :raises ValidationFailed: empty or too long (field ``alt``).
    """
    text = checked_alt(alt)
    image = _image(image_id)
    image.alt = text
    return image


@atomic
def delete_image(image_id: int) -> None:
    """Delete an image; its files go once that is committed. A variant that showed it shows
    the gallery's first again.

    :raises NotFound: no such image.
    """
    image = _image(image_id)
    files = image_files(image)
    db.session.delete(image)  # the database sets its variants' image_id to NULL
    storage = media_storage()
    on_commit(lambda: storage.delete(files))


@atomic
def delete_product(product_id: int) -> None:
    """Delete a product, its gallery with it; the images' files go once that is committed.

    :raises NotFound: no such product.
    """
    product = db.session.get(Product, product_id, with_for_update=True)
    if product is None:
        raise NotFound("No such product: it may have been deleted already.")
    files = [
        file
        for image in db.session.scalars(
            select(ProductImage).where(ProductImage.product_id == product_id)
        )
        for file in image_files(image)
    ]
    db.session.delete(product)
    storage = media_storage()
    on_commit(lambda: storage.delete(files))


@atomic
def set_variant_image(variant_id: int, image_id: int | None) -> None:
    """Show this image (one of its product's, or None: the gallery's first) for a variant.

    :raises NotFound: no such variant.
    :raises ValidationFailed: the image is not one of the variant's product's.
    """
    variant = db.session.get(Variant, variant_id, with_for_update=True)
    if variant is None:
        raise NotFound("No such variant.")
    if image_id is not None:
        image = db.session.get(ProductImage, image_id)
        if image is None or image.product_id != variant.product_id:
            message = "Choose one of this product's images."
            raise ValidationFailed(message, {"image_id": [message]})
    variant.image_id = image_id


def _image(image_id: int) -> ProductImage:
    image = db.session.get(ProductImage, image_id, with_for_update=True)
    if image is None:
        raise NotFound("No such image: it may have been deleted already.")
    return image


def image_files(image: ProductImage) -> list[str]:
    """The keys of every file stored for an image."""
    return [f"{image.key}/{width}.{ext}" for width in image.width_list for ext in EXTENSIONS]


def srcset(image: ProductImage, extension: str = "webp") -> str:
    """The image's ``srcset`` in one format (``"webp"`` or ``"jpg"``):
    ``"/media/.../160.webp 160w, /media/.../480.webp 480w"``."""
    storage = media_storage()
    return ", ".join(
        f"{storage.url(f'{image.key}/{width}.{extension}')} {width}w" for width in image.width_list
    )


def image_urls(image: ProductImage) -> dict:
    """What a page or the API shows of an image: its alt text and size, the URL of each width
    in each format, and the URLs of each named size of ``MEDIA_WIDTHS`` (the widest stored
    width not wider than the name's)::

        {"id": 3, "alt": "...", "width": 1200, "height": 800,
         "widths": [{"width": 160, "height": 107, "webp": "/media/...", "jpeg": "/media/..."},
                    ...],
         "sizes": {"thumb": {"width": 160, ...}, ...},
         "srcset": {"webp": "... 160w, ...", "jpeg": "... 160w, ..."}}
    """
    storage = media_storage()
    widths = [
        {
            "width": width,
            "height": image.height_at(width),
            "webp": storage.url(f"{image.key}/{width}.webp"),
            "jpeg": storage.url(f"{image.key}/{width}.jpg"),
        }
        for width in image.width_list
    ]
    sizes = {
        name: next((w for w in reversed(widths) if w["width"] <= wanted), widths[0])
        for name, wanted in current_app.config["MEDIA_WIDTHS"].items()
    }
    return {
        "id": image.id,
        "alt": image.alt,
        "width": image.width,
        "height": image.height,
        "widths": widths,
        "sizes": sizes,
        "srcset": {"webp": srcset(image, "webp"), "jpeg": srcset(image, "jpg")},
    }
