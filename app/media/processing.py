"""Uploaded images made safe: read by content, bounded, re-encoded into a few widths.

An upload is trusted for nothing: not its name, not the browser's content type, not its
metadata. Pillow identifies it from its bytes among ``FORMATS`` only; its size in bytes and in
pixels is bounded before anything is decoded (the header declares the size, so a
decompression bomb is refused unread); it is verified, then decoded whole (a truncated file
fails here). Its EXIF orientation is applied, and every rendition is a new image with no
metadata at all (no EXIF, GPS, XMP, comments or ICC profile), in WebP and in JPEG.

Pillow guards against bombs itself (``Image.MAX_IMAGE_PIXELS``, left as it is): above that many
pixels it warns (``DecompressionBombWarning``, an error under the tests' warning filter), above
twice that it raises ``DecompressionBombError``. Both are refused here as too large, as is
anything above ``MEDIA_MAX_PIXELS``, which is the bound that matters when it is the lower one.
"""

from dataclasses import dataclass
from io import BytesIO

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import ValidationFailed

# The formats Pillow may identify an upload as (MPO: a JPEG with extra frames, as some cameras
# write). Only the first frame of an animated GIF or WebP is kept.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
ACCEPTED = {*FORMATS, "MPO"}
# What each rendition is written as: (format, file extension, Pillow's save options).
ENCODINGS = (
    ("WEBP", "webp", {"quality": 80, "method": 4}),
    ("JPEG", "jpg", {"quality": 85, "optimize": True, "progressive": True}),
)
JPEG_BACKGROUND = (255, 255, 255)  # what transparent pixels become in a JPEG


@dataclass(frozen=True)
class Rendition:
    """One width of an image in one format, encoded."""

    width: int
    height: int
    extension: str  # "webp" or "jpg"
    data: bytes


@dataclass(frozen=True)
class ProcessedImage:
    """An upload as it will be stored: its size upright, and its renditions."""

    width: int
    height: int
    renditions: list[Rendition]

    @property
    def widths(self) -> list[int]:
        return sorted({r.width for r in self.renditions})


def process_image(data: bytes, name: str = "The file") -> ProcessedImage:
    """``data`` (an upload's bytes) checked and re-encoded in each width of ``MEDIA_WIDTHS``
    that is not wider than the image (one at its own width when it is narrower than some).

    :raises ValidationFailed: not a JPEG, PNG, WebP or GIF image, damaged, or too large in
        bytes (``MEDIA_MAX_BYTES``) or pixels (``MEDIA_MAX_PIXELS``); the message starts with
        ``name`` (the upload's file name) and is meant for the person who uploaded it.
    """
    image = _read(data, name)
    widths = sorted({min(w, image.width) for w in current_app.config["MEDIA_WIDTHS"].values()})
    renditions = []
    for width in widths:
        height = max(1, round(image.height * width / image.width))
        resized = image
        if width != image.width:
            resized = image.resize((width, height), Image.Resampling.LANCZOS)
        for image_format, extension, options in ENCODINGS:
            renditions.append(
                Rendition(width, height, extension, _encode(resized, image_format, options))
            )
    return ProcessedImage(image.width, image.height, renditions)


def _refused(name: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"{name} {problem}", {"images": [f"{name} {problem}"]})


def _read(data: bytes, name: str) -> Image.Image:
    """The image in ``data`` decoded (after every check that needs no decoding), upright and
    without metadata."""
    config = current_app.config
    if len(data) > config["MEDIA_MAX_BYTES"]:
        limit = config["MEDIA_MAX_BYTES"] / 1_000_000
        raise _refused(name, f"is larger than {limit:g} MB.")
    not_an_image = _refused(name, "is not a JPEG, PNG, WebP or GIF image, or it is damaged.")
    too_large = _refused(
        name, f"has more than {config['MEDIA_MAX_PIXELS'] / 1_000_000:g} megapixels."
    )
    try:
        with Image.open(BytesIO(data), formats=FORMATS) as header:
            width, height = header.size
            if header.format not in ACCEPTED:
                raise not_an_image
            if width * height > config["MEDIA_MAX_PIXELS"]:
                raise too_large
            header.verify()
        # verify() leaves the image unusable: decode it from a fresh start.
        with Image.open(BytesIO(data), formats=FORMATS) as image:
            image.load()
            upright = _upright_without_metadata(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise too_large from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        # Pillow's plugins report a damaged file with any of these.
        raise not_an_image from error
    return upright


def _upright_without_metadata(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says, in RGB (RGBA if it has transparency),
    with none of the original's metadata (``info`` would otherwise follow it into the files:
    Pillow's JPEG writer copies a comment)."""
    upright = ImageOps.exif_transpose(image) or image
    transparent = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    clean = upright.convert("RGBA" if transparent else "RGB")
    clean.info = {}
    return clean


def _encode(image: Image.Image, image_format: str, options: dict) -> bytes:
    if image_format == "JPEG" and image.mode == "RGBA":
        flat = Image.new("RGB", image.size, JPEG_BACKGROUND)
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    output = BytesIO()
    image.save(output, image_format, **options)
    return output.getvalue()
