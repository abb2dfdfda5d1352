#!/usr/bin/python3
"""check-screen.py PNG: the linux stage's screenshot, read with zlib alone. Prints its size,
its colours, how many pixels differ from the most common one (the background) and the
bounding box of those; exits 1 for a PNG that is not 8-bit RGB(A), or one with no pixel off
the background (a blank screen shows nothing of the guest)."""

import collections
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "integration"))
from pngread import read_png_rgb  # noqa: E402  (the sim's display tests' reader)

try:
    width, height, pixels = read_png_rgb(open(sys.argv[1], "rb").read())
except ValueError as e:
    raise SystemExit(f"{sys.argv[1]}: {e}")
rows = [[pixels[at:at + 3] for at in range(y * width * 3, (y + 1) * width * 3, 3)]
        for y in range(height)]
counts = collections.Counter(p for row in rows for p in row)
background, _ = counts.most_common(1)[0]
off = [(x, y) for y, row in enumerate(rows) for x, p in enumerate(row) if p != background]
colours = ", ".join(f"#{c.hex()} {n}" for c, n in counts.most_common(4))
if not off:
    raise SystemExit(f"{width}x{height}, blank: every pixel #{background.hex()}")
xs, ys = [x for x, _ in off], [y for _, y in off]
print(f"{width}x{height}, {len(counts)} colours ({colours}), {len(off)} pixels off the "
      f"background #{background.hex()} within x {min(xs)}-{max(xs)}, y {min(ys)}-{max(ys)}")
