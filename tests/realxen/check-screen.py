#!/usr/bin/python3
"""check-screen.py PNG: the linux stage's screenshot, read with zlib alone. Prints its size,
its colours, how many pixels differ from the most common one (the background) and the
bounding box of those; exits 1 for a PNG that is not 8-bit RGB(A), or one with no pixel off
the background (a blank screen shows nothing of the guest)."""

import collections
import struct
import sys
import zlib


def read_png_rgb(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("not a PNG")
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise SystemExit(f"not 8-bit RGB(A): {header}")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        rows.append([bytes(line[i:i + 3]) for i in range(0, stride, bpp)])
        previous = line
    return width, height, rows


width, height, rows = read_png_rgb(open(sys.argv[1], "rb").read())
counts = collections.Counter(p for row in rows for p in row)
background, _ = counts.most_common(1)[0]
off = [(x, y) for y, row in enumerate(rows) for x, p in enumerate(row) if p != background]
colours = ", ".join(f"#{c.hex()} {n}" for c, n in counts.most_common(4))
if not off:
    raise SystemExit(f"{width}x{height}, blank: every pixel #{background.hex()}")
xs, ys = [x for x, _ in off], [y for _, y in off]
print(f"{width}x{height}, {len(counts)} colours ({colours}), {len(off)} pixels off the "
      f"background #{background.hex()} within x {min(xs)}-{max(xs)}, y {min(ys)}-{max(ys)}")
