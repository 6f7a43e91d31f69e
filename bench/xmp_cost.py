"""The cost of reading XMP names at index time (issue 20), alternated against xmp_read off.

    python bench/xmp_cost.py [--photos 120] [--rounds 3]

Arms, run A, B, A, B ... each into a fresh library with the SCRFD-500M + SFace pack, on the
same photos (LFW dev photos, which carry no XMP packet and no sidecar):
- off: ``xmp_read = false`` (release 0.3's indexer);
- on: ``xmp_read = true`` (the default): a memory search of each photo's bytes for a packet,
  the sidecar looked for in the folder listing; Exempi is never asked.
A third arm, ``on, named``, gives every photo a sidecar with a named MWG region (Exempi parses
each, and the names become corrections): the cost where there is something to read.
Also the reader alone, per photo: the packet search on a photo without XMP, and Exempi's parse
of a sidecar, beside exiftool's -stay_open read of the same sidecar (the alternative measured).
Medians of the rounds; the ratio on/off is what counts on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LFW, SCRFD_PACK, machine  # noqa: E402

from clusterids.app import open_core  # noqa: E402
from clusterids.config import load_settings  # noqa: E402
from clusterids.xmp import packet, sidecars  # noqa: E402

SIDECAR = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
 xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#">
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:AppliedToDimensions stDim:w="250" stDim:h="250" stDim:unit="pixel"/>
<mwg-rs:RegionList><rdf:Bag><rdf:li rdf:parseType="Resource"><mwg-rs:Name>{name}</mwg-rs:Name>
<mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Area stArea:x="0.5" stArea:y="0.47" stArea:w="0.34" stArea:h="0.46"
 stArea:unit="normalized"/></rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>"""


def photos(out: Path, n: int, named: bool) -> Path:
    folder = out / ("named" if named else "plain")
    folder.mkdir(parents=True)
    people = sorted(p for p in LFW.iterdir() if p.is_dir())
    taken = 0
    for person in people:
        for photo in sorted(person.glob("*.jpg"))[:2]:
            shutil.copy(photo, folder / photo.name)
            if named:
                (folder / (photo.name + ".xmp")).write_text(SIDECAR.format(name=person.name.replace("_", " ")))
            taken += 1
            if taken == n:
                return folder
    return folder


def index_once(folder: Path, scratch: Path, xmp_read: bool) -> float:
    lib_dir = Path(tempfile.mkdtemp(dir=scratch))
    settings = load_settings({"library": str(lib_dir), "model": str(SCRFD_PACK), "progress": "false",
                              "xmp_read": str(xmp_read).lower()}, environ={})
    with open_core(settings, create=True) as core:
        core.lib.model()  # the models load before the clock starts, in every arm
        started = time.perf_counter()
        result = core.library.index([str(folder)])  # the run and its catch-ups (the names made corrections)
        took = time.perf_counter() - started
    assert result.photos_new > 0 and not result.photos_failed, result
    shutil.rmtree(lib_dir)
    return took


def per_photo(folder: Path, named: Path) -> dict[str, float]:
    """The reader alone: milliseconds per photo, median."""
    datas = [p.read_bytes() for p in sorted(folder.glob("*.jpg"))]
    t = []
    for d in datas:
        s = time.perf_counter()
        sidecars.read(d, None)
        t.append(time.perf_counter() - s)
    side = sorted(named.glob("*.xmp"))
    packet.exempi()
    e = []
    for p in side:
        s = time.perf_counter()
        sidecars.read(b"", str(p))
        e.append(time.perf_counter() - s)
    out = {"packet_search_ms": round(statistics.median(t) * 1000, 4),
           "exempi_sidecar_ms": round(statistics.median(e) * 1000, 3)}
    if shutil.which("exiftool"):
        proc = subprocess.Popen(["exiftool", "-stay_open", "True", "-@", "-"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdin is not None and proc.stdout is not None
        x = []
        for p in side:
            s = time.perf_counter()
            proc.stdin.write(f"-j\n-struct\n-XMP:all\n{p}\n-execute\n".encode())
            proc.stdin.flush()
            buf = b""
            while not buf.endswith(b"{ready}\n"):
                buf += proc.stdout.read1(65536)
            x.append(time.perf_counter() - s)
        proc.stdin.write(b"-stay_open\nFalse\n")
        proc.stdin.flush()
        proc.wait(timeout=30)
        out["exiftool_stay_open_sidecar_ms"] = round(statistics.median(x) * 1000, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="xmp-cost-"))
    try:
        plain, named = photos(scratch, args.photos, False), photos(scratch, args.photos, True)
        arms: dict[str, list[float]] = {"off": [], "on": [], "on, named": []}
        index_once(plain, scratch, False)  # warm the page cache and the models' first run
        for _ in range(args.rounds):
            arms["off"].append(index_once(plain, scratch, False))
            arms["on"].append(index_once(plain, scratch, True))
            arms["on, named"].append(index_once(named, scratch, True))
        med = {k: statistics.median(v) for k, v in arms.items()}
        report = {
            "command": f"python bench/xmp_cost.py --photos {args.photos} --rounds {args.rounds}",
            "machine": machine(), "load_average": [round(v, 2) for v in os.getloadavg()], "photos": args.photos,
            "seconds": {k: [round(x, 2) for x in v] for k, v in arms.items()},
            "median_seconds": {k: round(v, 2) for k, v in med.items()},
            "on_vs_off": round(med["on"] / med["off"], 3),
            "named_vs_off": round(med["on, named"] / med["off"], 3),
            "reader_alone": per_photo(plain, named),
        }
        print(json.dumps(report, indent=1))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
