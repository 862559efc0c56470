"""Checks of `failover-watch report`'s documents, for tests/report_cli.rs, with the standard
library only: a strict XML parse (the HTML page is well-formed XML, the JUnit file is XML), the
JUnit test cases, and the colours of a browser's screenshot (PNG, decoded here).

    python3 check.py xml FILE        prints the root element's tag
    python3 check.py junit FILE      prints the suite's counts and its test cases, as JSON
    python3 check.py png FILE RRGGBB...  prints the size, the distinct colours and how many
                                     pixels have each colour asked about, as JSON
"""

import json
import struct
import sys
import xml.etree.ElementTree as ET
import zlib


def xml(path):
    print(ET.parse(path).getroot().tag)


def junit(path):
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    cases = [
        {
            "name": case.get("name"),
            "failure": case.find("failure") is not None,
            "skipped": case.find("skipped") is not None,
        }
        for case in suite.findall("testcase")
    ]
    counts = {k: int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped")}
    print(json.dumps({"suite": counts, "cases": cases, "out": suite.findtext("system-out")}))


def pixels(path):
    """The PNG's width, height and rows of RGB(A) bytes (8 bits, no interlace)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif kind == 2:
            row = bytearray((a + b) & 0xFF for a, b in zip(row, previous))
        elif kind == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 0xFF
        rows.append(bytes(row))
        previous = row
    return width, height, bpp, rows


def png(path, *wanted):
    width, height, bpp, rows = pixels(path)
    counts = {}
    for row in rows:
        for x in range(0, len(row), bpp):
            rgb = row[x : x + 3]
            counts[rgb] = counts.get(rgb, 0) + 1
    found = {w: counts.get(bytes.fromhex(w), 0) for w in wanted}
    print(json.dumps({"width": width, "height": height, "colours": len(counts), "found": found}))


if __name__ == "__main__":
    {"xml": xml, "junit": junit, "png": png}[sys.argv[1]](*sys.argv[2:])
