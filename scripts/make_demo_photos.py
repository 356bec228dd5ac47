"""Draw the demo catalogue's product photos into app/catalog/demo_photos/, with manifest.json.

Pillow only, no randomness but a seeded one: the same Pillow writes the same bytes on every
run (tests/test_demo_photos.py checks the committed files against a fresh run). Each photo is
a product shot: a soft wall-and-table backdrop, a shaded object with a blurred shadow, a little
grain. manifest.json says which demo product (slug) each photo belongs to, in gallery order,
with its alt text and, for a product sold in options, the variants it shows.

    .venv/bin/python scripts/make_demo_photos.py            # into app/catalog/demo_photos/
    .venv/bin/python scripts/make_demo_photos.py OUT_DIR    # anywhere else (the test does)
"""

import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

SEED = 20260201
SIZE = (1200, 900)
SCALE = 2  # shapes are drawn at twice the size, then reduced: smooth edges
QUALITY = 75
FOLDER = Path(__file__).resolve().parent.parent / "app" / "catalog" / "demo_photos"
MANIFEST = "manifest.json"

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]
Point = tuple[float, float]
Draw = Callable[["ScaledDraw"], None]  # draws a shape in 255 on an "L" mask


class Canvas:
    """A photo being drawn: a backdrop, then parts painted over it, front-most last."""

    def __init__(self, rng: random.Random, wall: RGB, table: RGB):
        self.rng = rng
        self.image = backdrop(wall, table)

    def mask(self, draw: Draw) -> Image.Image:
        """``draw`` run on a blank mask at SCALE times the size (in photo coordinates: the
        drawing is scaled), reduced to the photo's size."""
        big = Image.new("L", (SIZE[0] * SCALE, SIZE[1] * SCALE), 0)
        draw(ScaledDraw(big))
        return big.reduce(SCALE)

    def shadow(self, box: Box, strength: float = 0.45) -> None:
        """A soft contact shadow: a blurred ellipse darkening the table."""
        small = Image.new("L", (SIZE[0] // 4, SIZE[1] // 4), 0)
        ImageDraw.Draw(small).ellipse([v / 4 for v in box], fill=int(255 * strength))
        mask = small.filter(ImageFilter.GaussianBlur(7)).resize(SIZE, Image.Resampling.BICUBIC)
        self.image = Image.composite(Image.new("RGB", SIZE, (40, 32, 28)), self.image, mask)

    def paint(self, draw: Draw, colour: RGB, shine: float = 0.25, shade: float = 0.55) -> None:
        """A part in ``colour``, lit from the left: lighter there, darker on the right, with
        a soft highlight (``shine``: its strength)."""
        mask = self.mask(draw)
        box = mask.getbbox()
        if box is None:
            return
        left, top, right, bottom = box
        light = tuple(min(255, round(c * 1.15 + 12)) for c in colour)
        dark = tuple(round(c * shade) for c in colour)
        ramp = Image.linear_gradient("L").rotate(90).resize((right - left, bottom - top))
        fill = Image.new("RGB", SIZE, colour)
        fill.paste(
            Image.composite(
                Image.new("RGB", ramp.size, dark), Image.new("RGB", ramp.size, light), ramp
            ),
            (left, top),
        )
        if shine:
            glow = Image.new("L", SIZE, 0)
            width = right - left
            ImageDraw.Draw(glow).ellipse(
                (left + width * 0.14, top + 10, left + width * 0.3, bottom - 10),
                fill=int(255 * shine),
            )
            glow = ImageChops.multiply(glow.filter(ImageFilter.GaussianBlur(18)), mask)
            fill = Image.composite(Image.new("RGB", SIZE, (255, 255, 255)), fill, glow)
        self.image = Image.composite(fill, self.image, mask)

    def flat(self, draw: Draw, colour: RGB) -> None:
        """A part in one colour, unshaded (a print, a label, a line)."""
        self.image = Image.composite(Image.new("RGB", SIZE, colour), self.image, self.mask(draw))

    def finished(self) -> bytes:
        """Grain, a last softening, and the JPEG's bytes."""
        grain = Image.frombytes(
            "L", (SIZE[0] // 2, SIZE[1] // 2), self.rng.randbytes(SIZE[0] * SIZE[1] // 4)
        ).resize(SIZE, Image.Resampling.BILINEAR)
        image = Image.blend(self.image, Image.merge("RGB", (grain, grain, grain)), 0.02)
        image = image.filter(ImageFilter.GaussianBlur(0.6))
        output = BytesIO()
        image.save(output, "JPEG", quality=QUALITY, optimize=True)
        return output.getvalue()


class ScaledDraw:
    """ImageDraw in photo coordinates on a mask SCALE times larger, always filled with 255."""

    def __init__(self, mask: Image.Image):
        self.draw = ImageDraw.Draw(mask)

    @staticmethod
    def _scaled(box: Box) -> list[float]:
        return [v * SCALE for v in box]

    def ellipse(self, box: Box) -> None:
        self.draw.ellipse(self._scaled(box), fill=255)

    def rounded(self, box: Box, radius: float) -> None:
        self.draw.rounded_rectangle(self._scaled(box), radius * SCALE, fill=255)

    def polygon(self, points: list[Point]) -> None:
        self.draw.polygon([(x * SCALE, y * SCALE) for x, y in points], fill=255)

    def ring(self, box: Box, width: float) -> None:
        self.draw.ellipse(self._scaled(box), outline=255, width=round(width * SCALE))

    def arc(self, box: Box, start: float, end: float, width: float) -> None:
        self.draw.arc(self._scaled(box), start, end, fill=255, width=round(width * SCALE))

    def line(self, points: list[Point], width: float) -> None:
        self.draw.line(
            [(x * SCALE, y * SCALE) for x, y in points], fill=255, width=round(width * SCALE)
        )


def backdrop(wall: RGB, table: RGB) -> Image.Image:
    """A wall fading down to a table edge two thirds of the way, the table lighter at the
    front, and a light vignette."""
    width, height = SIZE
    horizon = height * 0.62
    column = Image.new("RGB", (1, height))
    for y in range(height):
        if y < horizon:
            t = y / horizon
            colour = mix(lighter(wall, 0.12), wall, t)
        else:
            t = (y - horizon) / (height - horizon)
            colour = mix(darker(table, 0.9), lighter(table, 0.1), t)
        column.putpixel((0, y), colour)
    image = column.resize(SIZE, Image.Resampling.NEAREST).filter(ImageFilter.GaussianBlur(3))
    vignette = Image.radial_gradient("L").resize(SIZE, Image.Resampling.BICUBIC)
    vignette = vignette.point(lambda v: int(v * 0.35))
    return Image.composite(Image.new("RGB", SIZE, darker(wall, 0.6)), image, vignette)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def lighter(colour: RGB, amount: float) -> RGB:
    return mix(colour, (255, 255, 255), amount)


def darker(colour: RGB, factor: float) -> RGB:
    return (round(colour[0] * factor), round(colour[1] * factor), round(colour[2] * factor))


# The objects. Each draws on a Canvas around the photo's centre, standing on the table.


def teapot(canvas: Canvas, colour: RGB, with_cup: bool = False) -> None:
    cx = 520 if with_cup else 600
    canvas.shadow((cx - 260, 700, cx + 260, 790))
    canvas.paint(lambda d: d.arc((cx + 120, 360, cx + 330, 620), 250, 110, 34), colour)
    canvas.paint(
        lambda d: d.polygon(
            [(cx - 170, 560), (cx - 330, 400), (cx - 350, 380), (cx - 300, 390), (cx - 140, 500)]
        ),
        colour,
    )
    canvas.paint(lambda d: d.ellipse((cx - 230, 400, cx + 230, 760)), colour, shine=0.3)
    canvas.paint(lambda d: d.ellipse((cx - 140, 370, cx + 140, 440)), darker(colour, 0.85))
    canvas.paint(lambda d: d.ellipse((cx - 28, 330, cx + 28, 390)), darker(colour, 0.8))
    if with_cup:
        cup(canvas, 900, 760, 0.75, (236, 232, 224))


def cup(canvas: Canvas, cx: float, base: float, scale: float, colour: RGB) -> None:
    """An espresso cup on its saucer, the saucer's bottom at ``base``."""

    def s(v: float) -> float:
        return v * scale

    canvas.shadow((cx - s(210), base - s(40), cx + s(210), base + s(30)))
    canvas.paint(
        lambda d: d.ellipse((cx - s(200), base - s(70), cx + s(200), base)),
        colour,
        shine=0.15,
        shade=0.75,
    )
    canvas.paint(
        lambda d: d.ring((cx + s(80), base - s(230), cx + s(190), base - s(120)), s(26)),
        colour,
        shade=0.7,
    )

    def body(d: ScaledDraw) -> None:
        d.polygon(
            [
                (cx - s(125), base - s(250)),
                (cx + s(125), base - s(250)),
                (cx + s(95), base - s(70)),
                (cx - s(95), base - s(70)),
            ]
        )
        d.ellipse((cx - s(95), base - s(110), cx + s(95), base - s(50)))

    canvas.paint(body, colour, shine=0.35, shade=0.7)
    canvas.paint(
        lambda d: d.ellipse((cx - s(125), base - s(275), cx + s(125), base - s(225))),
        lighter(colour, 0.3),
        shine=0,
        shade=0.9,
    )
    canvas.flat(
        lambda d: d.ellipse((cx - s(108), base - s(268), cx + s(108), base - s(232))), (92, 52, 30)
    )


def espresso_cups(canvas: Canvas, close: bool = False) -> None:
    white = (240, 238, 232)
    if close:
        cup(canvas, 600, 760, 1.35, white)
        return
    cup(canvas, 400, 720, 0.95, white)
    cup(canvas, 800, 780, 0.95, white)


def book(canvas: Canvas, cover: RGB, band: RGB) -> None:
    canvas.shadow((330, 700, 900, 790))
    # the pages' edge, then the cover standing slightly turned, then its spine
    canvas.paint(
        lambda d: d.polygon([(470, 190), (800, 170), (800, 740), (470, 760)]),
        (242, 236, 220),
        shine=0,
        shade=0.85,
    )
    canvas.paint(
        lambda d: d.polygon([(400, 210), (760, 180), (760, 750), (400, 770)]), cover, shine=0.2
    )
    canvas.paint(
        lambda d: d.polygon([(360, 220), (400, 210), (400, 770), (360, 760)]), darker(cover, 0.7)
    )
    canvas.flat(lambda d: d.polygon([(430, 330), (735, 306), (735, 406), (430, 430)]), band)
    canvas.flat(lambda d: d.polygon([(470, 620), (700, 602), (700, 618), (470, 636)]), band)


def notebook(canvas: Canvas, cover: RGB, open_: bool = False) -> None:
    if open_:
        canvas.shadow((200, 560, 1000, 830), 0.4)
        paper = (246, 243, 235)
        canvas.paint(
            lambda d: d.polygon([(240, 560), (600, 590), (600, 800), (180, 770)]),
            paper,
            shine=0,
            shade=0.9,
        )
        canvas.paint(
            lambda d: d.polygon([(600, 590), (960, 560), (1020, 770), (600, 800)]),
            paper,
            shine=0,
            shade=0.9,
        )
        canvas.flat(dotted_pages, (150, 150, 160))
        canvas.flat(lambda d: d.line([(600, 590), (600, 800)], 3), (200, 195, 185))
        canvas.paint(
            lambda d: d.polygon([(640, 800), (660, 800), (660, 860), (650, 845), (640, 860)]),
            (170, 40, 40),
            shine=0,
        )
        return
    canvas.shadow((300, 640, 920, 800))
    canvas.paint(
        lambda d: d.polygon([(340, 600), (830, 560), (890, 740), (330, 780)]),
        (240, 236, 226),
        shine=0,
        shade=0.85,
    )
    canvas.paint(
        lambda d: d.polygon([(340, 580), (830, 540), (890, 720), (330, 760)]), cover, shine=0.15
    )
    canvas.paint(
        lambda d: d.polygon([(760, 546), (784, 544), (842, 724), (818, 727)]), (30, 30, 30), shine=0
    )
    canvas.paint(
        lambda d: d.polygon([(560, 740), (580, 739), (590, 830), (575, 815), (565, 832)]),
        (170, 40, 40),
        shine=0,
    )


def dotted_pages(d: "ScaledDraw") -> None:
    """The open notebook's dot grid, following each page's slant."""
    for row in range(6):
        for col in range(9):
            t = (col + 1) / 10
            for side in (-1, 1):
                x = 600 + side * (30 + t * 330) - side * (row - 2.5) * 8
                y = 612 + row * 30 + (1 - t) * 8
                d.ellipse((x - 2.5, y - 2.5, x + 2.5, y + 2.5))


def tshirt(canvas: Canvas, colour: RGB) -> None:
    canvas.shadow((300, 720, 900, 800), 0.3)
    canvas.paint(
        lambda d: d.polygon(
            [
                (470, 170),
                (530, 160),
                (600, 190),
                (670, 160),
                (730, 170),  # the collar
                (930, 250),
                (1000, 420),
                (870, 470),
                (820, 400),  # the right sleeve
                (830, 770),
                (370, 770),  # the hem
                (380, 400),
                (330, 470),
                (200, 420),
                (270, 250),  # the left sleeve
            ]
        ),
        colour,
        shine=0.2,
        shade=0.7,
    )
    canvas.flat(lambda d: d.ellipse((520, 150, 680, 230)), darker(colour, 0.55))
    canvas.flat(lambda d: d.ring((520, 150, 680, 230), 10), darker(colour, 0.85))
    print_colour = (245, 240, 230) if sum(colour) < 450 else (60, 50, 45)
    canvas.flat(lambda d: d.rounded((560, 330, 640, 420), 14), print_colour)
    canvas.flat(lambda d: d.ring((625, 350, 675, 395), 10), print_colour)
    canvas.flat(lambda d: d.line([(575, 320), (585, 290), (575, 262)], 6), print_colour)
    canvas.flat(lambda d: d.line([(615, 320), (625, 290), (615, 262)], 6), print_colour)


def tote(canvas: Canvas, colour: RGB, print_colour: RGB) -> None:
    canvas.shadow((360, 740, 840, 810))
    canvas.paint(lambda d: d.arc((430, 120, 610, 520), 180, 360, 22), darker(colour, 0.9))
    canvas.paint(lambda d: d.arc((590, 120, 770, 520), 180, 360, 22), darker(colour, 0.9))
    canvas.paint(lambda d: d.rounded((380, 320, 820, 780), 12), colour, shine=0.15, shade=0.7)
    canvas.flat(lambda d: d.line([(380, 340), (820, 340)], 4), darker(colour, 0.8))
    canvas.flat(lambda d: d.rounded((560, 470, 640, 560), 14), print_colour)
    canvas.flat(lambda d: d.ring((625, 490, 675, 535), 10), print_colour)


def candle(canvas: Canvas) -> None:
    amber = (176, 98, 30)
    canvas.shadow((400, 730, 800, 800))
    canvas.paint(lambda d: d.rounded((440, 360, 760, 770), 40), amber, shine=0.45, shade=0.5)
    canvas.paint(lambda d: d.ellipse((455, 380, 745, 440)), (236, 224, 200), shine=0, shade=0.8)
    canvas.flat(lambda d: d.rounded((470, 520, 730, 660), 6), (238, 230, 214))
    canvas.flat(lambda d: d.rounded((510, 570, 690, 586), 4), (90, 70, 60))
    canvas.flat(lambda d: d.rounded((540, 600, 660, 610), 4), (140, 120, 100))
    canvas.flat(lambda d: d.line([(600, 410), (600, 370)], 5), (40, 35, 30))
    glow = Image.new("L", SIZE, 0)
    ImageDraw.Draw(glow).ellipse((520, 230, 680, 420), fill=120)
    glow = glow.filter(ImageFilter.GaussianBlur(40))
    canvas.image = Image.composite(Image.new("RGB", SIZE, (255, 214, 140)), canvas.image, glow)
    canvas.flat(
        lambda d: d.polygon([(600, 280), (618, 330), (612, 365), (588, 365), (582, 330)]),
        (255, 200, 90),
    )
    canvas.flat(lambda d: d.ellipse((592, 330, 608, 362)), (255, 250, 225))


@dataclass(frozen=True)
class Photo:
    product: str  # the demo product's slug
    file: str
    alt: str
    wall: RGB
    table: RGB
    draw: Callable[[Canvas], None]
    variant_options: dict[str, str] = field(default_factory=dict)  # {"Colour": "Red"}


WARM_WALL, OAK = (226, 216, 200), (176, 136, 96)
GREY_WALL, STONE = (214, 216, 218), (188, 184, 178)
SAGE_WALL, LINEN = (206, 214, 200), (222, 212, 192)

PHOTOS = (
    Photo(
        "storefront-t-shirt",
        "storefront-t-shirt-red.jpg",
        "A red Storefront T-shirt laid flat, the shop's coffee cup printed on its chest.",
        GREY_WALL,
        STONE,
        lambda c: tshirt(c, (178, 42, 42)),
        {"Colour": "Red"},
    ),
    Photo(
        "storefront-t-shirt",
        "storefront-t-shirt-navy.jpg",
        "A navy Storefront T-shirt laid flat, the shop's coffee cup printed on its chest.",
        GREY_WALL,
        STONE,
        lambda c: tshirt(c, (34, 46, 84)),
        {"Colour": "Navy"},
    ),
    Photo(
        "storefront-t-shirt",
        "storefront-t-shirt-grey.jpg",
        "A grey Storefront T-shirt laid flat, the shop's coffee cup printed on its chest.",
        GREY_WALL,
        STONE,
        lambda c: tshirt(c, (150, 150, 152)),
        {"Colour": "Grey"},
    ),
    Photo(
        "canvas-tote-bag",
        "canvas-tote-bag-natural.jpg",
        "A natural cotton canvas tote bag with long handles, standing on a table.",
        SAGE_WALL,
        LINEN,
        lambda c: tote(c, (226, 212, 182), (70, 60, 50)),
        {"Colour": "Natural"},
    ),
    Photo(
        "canvas-tote-bag",
        "canvas-tote-bag-black.jpg",
        "A black cotton canvas tote bag with long handles, standing on a table.",
        SAGE_WALL,
        LINEN,
        lambda c: tote(c, (40, 40, 42), (230, 226, 216)),
        {"Colour": "Black"},
    ),
    Photo(
        "canvas-tote-bag",
        "canvas-tote-bag-olive.jpg",
        "An olive cotton canvas tote bag with long handles, standing on a table.",
        SAGE_WALL,
        LINEN,
        lambda c: tote(c, (104, 110, 62), (236, 230, 210)),
        {"Colour": "Olive"},
    ),
    Photo(
        "cast-iron-teapot-0-8-l",
        "cast-iron-teapot.jpg",
        "A round black cast iron teapot with a lid and a curved handle, on an oak table.",
        WARM_WALL,
        OAK,
        lambda c: teapot(c, (52, 54, 58)),
    ),
    Photo(
        "cast-iron-teapot-0-8-l",
        "cast-iron-teapot-with-cup.jpg",
        "The black cast iron teapot beside a white cup of tea on its saucer.",
        WARM_WALL,
        OAK,
        lambda c: teapot(c, (52, 54, 58), with_cup=True),
    ),
    Photo(
        "porcelain-espresso-cups-set-of-2",
        "porcelain-espresso-cups.jpg",
        "Two white porcelain espresso cups on their saucers, each holding a shot of espresso.",
        GREY_WALL,
        OAK,
        espresso_cups,
    ),
    Photo(
        "porcelain-espresso-cups-set-of-2",
        "porcelain-espresso-cup-close.jpg",
        "One white porcelain espresso cup on its saucer, seen close, with a dark espresso.",
        GREY_WALL,
        OAK,
        lambda c: espresso_cups(c, close=True),
    ),
    Photo(
        "a5-dotted-notebook",
        "a5-dotted-notebook.jpg",
        "A closed A5 notebook with a dark green cover, a black elastic band and a red ribbon.",
        WARM_WALL,
        LINEN,
        lambda c: notebook(c, (46, 84, 66)),
    ),
    Photo(
        "a5-dotted-notebook",
        "a5-dotted-notebook-open.jpg",
        "The A5 notebook lying open on dotted pages, its red ribbon marker hanging out.",
        WARM_WALL,
        LINEN,
        lambda c: notebook(c, (46, 84, 66), open_=True),
    ),
    Photo(
        "simple-suppers",
        "simple-suppers.jpg",
        "The cookbook Simple Suppers standing on a table, a mustard cover with cream bands.",
        SAGE_WALL,
        OAK,
        lambda c: book(c, (196, 150, 50), (246, 236, 210)),
    ),
    Photo(
        "soy-wax-candle-fig-cedar",
        "soy-wax-candle.jpg",
        "A lit soy wax candle in an amber glass jar with a cream label.",
        WARM_WALL,
        STONE,
        candle,
    ),
)


def photo_bytes(photo: Photo) -> bytes:
    """The photo drawn and encoded; its grain seeded by SEED and its file name."""
    canvas = Canvas(random.Random(f"{SEED}:{photo.file}"), photo.wall, photo.table)
    photo.draw(canvas)
    return canvas.finished()


def manifest() -> dict:
    """Each product's photos, in gallery order."""
    products: dict[str, list[dict]] = {}
    for photo in PHOTOS:
        entry: dict = {"file": photo.file, "alt": photo.alt}
        if photo.variant_options:
            entry["variant_options"] = photo.variant_options
        products.setdefault(photo.product, []).append(entry)
    return {"products": [{"slug": slug, "photos": photos} for slug, photos in products.items()]}


def write(folder: Path) -> int:
    """Every photo and manifest.json written into ``folder`` (other .jpg files there removed);
    the bytes written."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {photo.file for photo in PHOTOS}
    for stale in folder.glob("*.jpg"):
        if stale.name not in names:
            stale.unlink()
    total = 0
    for photo in PHOTOS:
        data = photo_bytes(photo)
        (folder / photo.file).write_bytes(data)
        total += len(data)
        print(f"{photo.file}: {len(data) / 1000:.1f} KB")
    text = json.dumps(manifest(), indent=2, ensure_ascii=False) + "\n"
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    print(f"{len(PHOTOS)} photos, {total / 1000:.1f} KB, in {folder}")
    return total


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER)
