"""The small XMP test set, made in the tests: three LFW faces side by side, stored turned by
each EXIF orientation, with named regions written by exiftool (the independent program) in
the photo, in a sidecar, or both; exiftool reads our sidecars back."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from clusterids.media.imaging import TRANSPOSE
from clusterids.xmp import orient

from .conftest import lfw_people

NAMES = ["Ann", "Bob", "Cy"]
MISSED_AT = (120, 110)  # where the distant face sits in the fourth tile
INVERSE = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}
needs_exiftool = shutil.which("exiftool") is not None


def upright(mark: int, missed: bool = False) -> Image.Image:
    """Three people side by side (a fourth, upside down, that the detector misses, with
    ``missed``); ``mark`` makes each photo's content its own."""
    people = lfw_people(4, min_photos=1, max_photos=1)
    tiles = [Image.open(p).convert("RGB") for p in people]
    blank = Image.new("RGB", (250, 250), (90, 90, 90))
    if missed:  # a face in the distance, under the detector's smallest face: the user named it anyway
        blank.paste(tiles[3].crop((60, 50, 190, 200)).resize((13, 15)), MISSED_AT)
    tiles[3] = blank
    canvas = Image.new("RGB", (250 * len(tiles), 250), (90, 90, 90))
    for i, tile in enumerate(tiles):
        canvas.paste(tile, (250 * i, 0))
    pixels = np.asarray(canvas).copy()
    for bit in range(12):  # a row of dots in the corner: each photo's own bytes
        pixels[2:5, 2 + 4 * bit : 5 + 4 * bit] = 255 if mark >> bit & 1 else 0
    return Image.fromarray(pixels)


def stored(img: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera would store for ``img`` to be displayed upright with ``orientation``."""
    inv = INVERSE[orientation]
    return img if inv == 1 else img.transpose(Image.Transpose(TRANSPOSE[inv]))


def save_jpeg(img: Image.Image, path: Path, orientation: int | None) -> None:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92, exif=exif.tobytes())
    path.write_bytes(buf.getvalue())


def exiftool(*args: str | Path) -> str:
    done = subprocess.run(["exiftool", *map(str, args)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def mwg(regions: list[tuple[str | None, orient.Box]], size: tuple[int, int]) -> str:
    """exiftool's struct text of an MWG RegionInfo (boxes normalised, stored pixels)."""
    items = []
    for name, (x1, y1, x2, y2) in regions:
        area = f"Area={{X={(x1 + x2) / 2:.6f},Y={(y1 + y2) / 2:.6f},W={x2 - x1:.6f},H={y2 - y1:.6f},Unit=normalized}}"
        items.append("{" + area + (f",Name={name}" if name else "") + ",Type=Face}")
    return f"{{AppliedToDimensions={{W={size[0]},H={size[1]},Unit=pixel}},RegionList=[{','.join(items)}]}}"


def microsoft(regions: list[tuple[str, orient.Box]]) -> str:
    items = [f"{{Rectangle={x1:.6f}|, {y1:.6f}|, {x2 - x1:.6f}|, {y2 - y1:.6f},PersonDisplayName={n}}}"
             for n, (x1, y1, x2, y2) in regions]
    return "{Regions=[" + ",".join(items) + "]}"


def read_back(path: Path) -> dict[str, Any]:
    """What exiftool reads in a file (structures kept)."""
    out: dict[str, Any] = json.loads(exiftool("-j", "-struct", "-XMP:all", path))[0]
    return out


def region_boxes(info: dict[str, Any]) -> list[tuple[str | None, orient.Box]]:
    out = []
    for r in (info.get("RegionInfo") or {}).get("RegionList") or []:
        a = r["Area"]
        x, y, w, h = (float(a[k]) for k in ("X", "Y", "W", "H"))
        out.append((r.get("Name"), (x - w / 2, y - h / 2, x + w / 2, y + h / 2)))
    return out


def ACDSEE(name: str, box: orient.Box, size: tuple[int, int]) -> str:
    """An ACDSee sidecar, as ACDSee writes its own schema (exiftool needs a config for it)."""
    x1, y1, x2, y2 = box
    return f"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:acdsee-rs="http://ns.acdsee.com/regions/"
 xmlns:acdsee-stArea="http://ns.acdsee.com/sType/Area#" xmlns:acdsee-stDim="http://ns.acdsee.com/sType/Dimensions#">
<acdsee-rs:Regions rdf:parseType="Resource"><acdsee-rs:AppliedToDimensions acdsee-stDim:w="{size[0]}"
 acdsee-stDim:h="{size[1]}" acdsee-stDim:unit="pixel"/><acdsee-rs:RegionList><rdf:Bag>
<rdf:li rdf:parseType="Resource"><acdsee-rs:Name>{name}</acdsee-rs:Name><acdsee-rs:Type>Face</acdsee-rs:Type>
<acdsee-rs:NameAssignType>manual</acdsee-rs:NameAssignType><acdsee-rs:DLYArea acdsee-stArea:x="{(x1 + x2) / 2}"
 acdsee-stArea:y="{(y1 + y2) / 2}" acdsee-stArea:w="{x2 - x1}" acdsee-stArea:h="{y2 - y1}"/></rdf:li>
</rdf:Bag></acdsee-rs:RegionList></acdsee-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>"""
