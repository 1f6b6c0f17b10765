"""Draw the app icons of the web app manifest: static/img/icon-192.png, icon-512.png (rounded,
for launchers that show an icon as it is) and icon-maskable-512.png (full bleed, the line inside
the safe circle, for launchers that cut their own shape). The same mark as favicon.svg: a white
price line on the site's blue.

Run once after changing the mark, and commit the PNG files (they are our own assets):

    .venv/bin/python scripts/make_icons.py

Only numpy and the standard library: the line is drawn with anti-aliased distances to its
segments, the PNG written with zlib.
"""

import struct
import zlib
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "static" / "img"
BLUE = (0x1D, 0x4E, 0xD8)
WHITE = (0xFF, 0xFF, 0xFF)
# favicon.svg's line, on its 24-unit square.
LINE = [(3, 17), (8, 11), (12, 14), (16, 7), (21, 9)]
LINE_WIDTH = 2.4
CORNER = 5  # the rounded square's corner radius, in the same units


def _segment_distance(px, py, a, b) -> np.ndarray:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0, 1)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _rounded_square_alpha(px, py, size: float, radius: float) -> np.ndarray:
    """Coverage of a square of side `size` with rounded corners, anti-aliased over one pixel."""
    qx = np.abs(px - size / 2) - (size / 2 - radius)
    qy = np.abs(py - size / 2) - (size / 2 - radius)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0)
    return np.clip(radius - outside + 0.5, 0, 1)


def icon(pixels: int, *, maskable: bool) -> np.ndarray:
    """An RGBA image: the blue ground (rounded, or full bleed) and the white line."""
    unit = pixels / 24  # pixels per unit of favicon.svg
    ys, xs = np.mgrid[0:pixels, 0:pixels].astype(np.float64) + 0.5
    if maskable:
        # Launchers may cut the icon to a circle of 80% of its width: the line is shrunk into it.
        scale, offset = 0.72, pixels * 0.14
        ground = np.ones_like(xs)
    else:
        scale, offset = 1.0, 0.0
        ground = _rounded_square_alpha(xs, ys, pixels, CORNER * unit)
    ux, uy = (xs - offset) / (unit * scale), (ys - offset) / (unit * scale)
    segments = zip(LINE[:-1], LINE[1:], strict=True)
    distance = np.min([_segment_distance(ux, uy, a, b) for a, b in segments], axis=0)
    pixel_in_units = 1 / (unit * scale)
    line = np.clip((LINE_WIDTH / 2 - distance) / pixel_in_units + 0.5, 0, 1)
    rgb = np.empty((pixels, pixels, 3))
    for channel in range(3):
        rgb[..., channel] = BLUE[channel] * (1 - line) + WHITE[channel] * line
    alpha = ground * 255
    return np.dstack([rgb, alpha]).round().astype(np.uint8)


def png(image: np.ndarray) -> bytes:
    height, width, _channels = image.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + image[row].tobytes() for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    for name, pixels, maskable in (
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("icon-maskable-512.png", 512, True),
    ):
        (OUT / name).write_bytes(png(icon(pixels, maskable=maskable)))
        print(f"static/img/{name}")


if __name__ == "__main__":
    main()
