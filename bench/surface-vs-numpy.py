#!/usr/bin/env python3
"""numpy side of bench/surface-vs-numpy.sh: the same normal map as kiln's `normal_map`.

Usage: surface-vs-numpy.py IN.pgm OUT.ppm STRENGTH

Reads a 16-bit PGM height, takes the Scharr gradient (3, 10, 3 over 32) by array slicing on an
edge-padded copy (np.pad "edge" = kiln's clamp), builds n = normalize(-s*gx, s*gy, 1) (OpenGL),
encodes n*0.5+0.5 to 8 bits and writes a binary PPM: the same work as
`kiln run normal.rhai -o OUT.ppm`, whole process. float32 throughout, like kiln. Prints the time of
the computation alone (without interpreter start-up and file I/O) on stderr.
"""
import sys
import time

import numpy as np


def read_pgm16(path):
    with open(path, "rb") as f:
        data = f.read()
    # Header: P5 <w> <h> <maxval>, whitespace separated, then one whitespace byte.
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos : pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    w, h, maxval = int(fields[1]), int(fields[2]), int(fields[3])
    z = np.frombuffer(data, dtype=">u2", count=w * h, offset=pos).reshape(h, w)
    return z.astype(np.float32) / np.float32(maxval)


def normal_map(z, s):
    p = np.pad(z, 1, mode="edge")
    tl, t, tr = p[:-2, :-2], p[:-2, 1:-1], p[:-2, 2:]
    l, r = p[1:-1, :-2], p[1:-1, 2:]
    bl, b, br = p[2:, :-2], p[2:, 1:-1], p[2:, 2:]
    gx = (3 * (tr - tl) + 10 * (r - l) + 3 * (br - bl)) / np.float32(32)
    gy = (3 * (bl - tl) + 10 * (b - t) + 3 * (br - tr)) / np.float32(32)
    nx, ny = -s * gx, s * gy
    inv = 1 / np.sqrt(nx * nx + ny * ny + 1)
    n = np.stack([nx * inv, ny * inv, inv], axis=-1)
    return np.clip(np.rint((n * 0.5 + 0.5) * 255), 0, 255).astype(np.uint8)


def main():
    src, out, s = sys.argv[1], sys.argv[2], np.float32(sys.argv[3])
    z = read_pgm16(src)
    t0 = time.perf_counter()
    rgb = normal_map(z, s)
    t1 = time.perf_counter()
    with open(out, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (rgb.shape[1], rgb.shape[0]))
        f.write(rgb.tobytes())
    print(f"numpy compute only: {t1 - t0:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
