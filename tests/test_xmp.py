"""Names other programs gave, read from XMP and written back (issue 20).

The photos are made here (tests/xmp_photos.py): three LFW faces side by side, stored turned
by each EXIF orientation, their named regions written by exiftool into the photo, a sidecar,
or both; an orientation only in the sidecar; Microsoft and ACDSee regions; a face the
detector misses. exiftool, the independent reader, reads our sidecars back."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from clusterids.app import open_library
from clusterids.config import load_settings
from clusterids.media.imaging import TRANSPOSE
from clusterids.outputs import thumbs
from clusterids.store.db import Face, Journal, Person, Photo
from clusterids.xmp import orient, packet, sidecars, write
from clusterids.xmp import regions as xmp_regions

from .conftest import needs_shared
from .xmp_photos import (
    ACDSEE,
    MISSED_AT,
    NAMES,
    exiftool,
    microsoft,
    mwg,
    needs_exiftool,
    read_back,
    region_boxes,
    save_jpeg,
    stored,
    upright,
)

needs_tools = pytest.mark.skipif(not (needs_exiftool and packet.available()),
                                 reason="needs exiftool and Exempi (apt-get install libimage-exiftool-perl libexempi8)")


SIDECAR = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
 xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#">
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:AppliedToDimensions stDim:w="400" stDim:h="200" stDim:unit="pixel"/>
<mwg-rs:RegionList><rdf:Bag><rdf:li><rdf:Description mwg-rs:Name="Ann" mwg-rs:Type="Face">
<mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:w="0.2" stArea:h="0.3" stArea:unit="normalized"/>
</rdf:Description></rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>"""


@pytest.mark.skipif(not packet.available(), reason="needs Exempi (apt-get install libexempi8)")
def test_the_toolkit_is_used_by_one_thread_at_a_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The Adobe XMP toolkit keeps process-global state, and the indexer's photo threads read
    XMP side by side: every call into it, from an XMPMeta's making (the namespaces registered
    once) to its freeing, must hold packet's lock (a segfault once, in an index run of XMP photos)."""
    import threading

    from libxmp import XMPMeta

    unheld: list[str] = []

    def guard(name: str, fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            lock = packet._lock
            if not (lock._is_owned() if hasattr(lock, "_is_owned") else lock.locked()):  # a Lock: held by any
                unheld.append(name)
            return fn(*args, **kwargs)
        return call

    for name in ("__init__", "__del__", "parse_from_str", "does_property_exist", "get_property",
                 "count_array_items", "serialize_to_unicode"):
        monkeypatch.setattr(XMPMeta, name, guard(name, getattr(XMPMeta, name)))
    monkeypatch.setattr(XMPMeta, "register_namespace",
                        staticmethod(guard("register_namespace", XMPMeta.register_namespace)))
    # the first use registers the namespaces: let it come from the threads below
    getattr(packet, "_registered", packet._toolkit).cache_clear()
    path = tmp_path / "p.jpg.xmp"
    path.write_text(SIDECAR)
    names: list[list[str | None]] = []

    def reader() -> None:
        for _ in range(10):
            meta, problem = sidecars.read_sidecar(str(path))
            assert problem is None and meta is not None
            names.append([r.name for r in meta.regions])

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert names == [["Ann"]] * 40
    assert unheld == [], sorted(set(unheld))
    assert "Ann" in packet.read(SIDECAR, packet.serialise) and unheld == []


# -- the orientation maths, against the pixels the decoder turns ---------------------------------

@pytest.mark.parametrize("o", range(1, 9))
def test_a_box_turns_with_the_pixels_for_every_orientation(o: int) -> None:
    w, h = 40, 30
    pixels = np.zeros((h, w), np.uint8)
    pixels[3:9, 5:17] = 255  # the box (5, 3)-(17, 9) in the stored pixels
    img = Image.fromarray(pixels)
    shown = np.asarray(img if o == 1 else img.transpose(Image.Transpose(TRANSPOSE[o])))
    ys, xs = np.nonzero(shown)
    sh, sw = shown.shape
    assert (sw, sh) == ((h, w) if orient.swaps(o) else (w, h))
    truth = (xs.min() / sw, ys.min() / sh, (xs.max() + 1) / sw, (ys.max() + 1) / sh)
    box = (5 / w, 3 / h, 17 / w, 9 / h)
    assert np.allclose(orient.to_display(box, o), truth)
    assert np.allclose(orient.to_stored(orient.to_display(box, o), o), box)


# -- reading, merging, writing: files made by exiftool -------------------------------------------

@needs_tools
def test_regions_of_every_schema_are_read_and_the_sidecar_wins(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    save_jpeg(Image.new("RGB", (400, 200)), photo, 6)
    box = (0.1, 0.2, 0.3, 0.6)
    exiftool("-q", "-overwrite_original", f"-XMP-mwg-rs:RegionInfo={mwg([('Wrong', box)], (400, 200))}",
             "-XMP-digiKam:TagsList=People/Wrong", photo)
    assert xmp_regions.of(packet.parse(packet.find_packet(photo.read_bytes()) or b""), "photo").named[0].name \
        == "Wrong"
    side = tmp_path / "a.jpg.xmp"
    exiftool("-q", f"-XMP-mwg-rs:RegionInfo={mwg([('Ann', box), (None, (0.5, 0.5, 0.6, 0.7))], (400, 200))}",
             f"-XMP-MP:RegionInfoMP={microsoft([('Ann', box), ('Bob', (0.7, 0.1, 0.9, 0.3))])}",
             "-XMP-lr:HierarchicalSubject=People|Ann", "-XMP-tiff:Orientation#=8", side)
    meta = sidecars.read(photo.read_bytes(), sidecars.find(str(photo)))
    assert meta is not None and meta.where == "photo+sidecar" and not meta.problems
    assert sorted((r.name or "", r.schema) for r in meta.regions or []) == [("", "mwg"), ("Ann", "mwg"), ("Bob", "mp")]
    assert np.allclose([r for r in meta.regions or [] if r.name == "Ann"][0].box, box)
    assert meta.people == ["Ann"] and meta.orientation == 8
    (tmp_path / "b.xmp").write_text(ACDSEE("Cy", box, (400, 200)))
    acdsee = sidecars.read(b"", sidecars.find(str(tmp_path / "b.png")))
    assert acdsee is not None and [(r.name, r.schema) for r in acdsee.named] == [("Cy", "acdsee")]
    assert np.allclose(acdsee.named[0].box, box)
    (tmp_path / "c.jpg.xmp").write_text("<x:xmpmeta><rdf:RDF><broken")
    damaged = sidecars.read(b"", str(tmp_path / "c.jpg.xmp"))
    assert damaged is not None and len(damaged.problems) == 1 and "c.jpg.xmp is damaged" in damaged.problems[0]
    assert sidecars.photos_of(str(tmp_path / "b.xmp")) == [] and sidecars.photos_of(str(side)) == [str(photo)]


@needs_tools
def test_a_merge_keeps_what_other_programs_wrote_and_takes_back_only_ours(tmp_path: Path) -> None:
    side = tmp_path / "a.jpg.xmp"
    theirs = [("Dora", (0.6, 0.1, 0.8, 0.4)), ("Bobby", (0.1, 0.1, 0.3, 0.4)), (None, (0.4, 0.6, 0.5, 0.8))]
    exiftool("-q", f"-XMP-mwg-rs:RegionInfo={mwg(theirs, (400, 200))}", "-XMP-dc:Title=Holidays",
             "-XMP-digiKam:TagsList=Places/Rome", "-XMP-xmp:Rating=4", side)
    ours = [write.Named("Bob", (0.11, 0.1, 0.3, 0.41)), write.Named("Ann", (0.35, 0.1, 0.5, 0.4))]
    first = write.merge(packet.parse(side.read_text()), ours, (400, 200), [], [])
    write.write_atomic(str(side), first.text)
    info = read_back(side)
    assert info["Title"] == "Holidays" and info["Rating"] == 4 and "Places/Rome" in info["TagsList"]
    names = sorted(n or "" for n, _ in region_boxes(info))
    assert names == ["", "Ann", "Bob", "Dora"]  # Bobby's region over our Bob's face took our name
    assert sorted(info["TagsList"]) == ["People/Ann", "People/Bob", "Places/Rome"]
    assert first.renamed == 1
    # Ann leaves the photo here: her region and tag go; Dora's, the unnamed one and the rest stay
    second = write.merge(packet.parse(side.read_text()), ours[:1], (400, 200), first.ours, first.tags)
    write.write_atomic(str(side), second.text)
    info = read_back(side)
    assert sorted(n or "" for n, _ in region_boxes(info)) == ["", "Bob", "Dora"]
    assert sorted(info["TagsList"]) == ["People/Bob", "Places/Rome"] and info["Title"] == "Holidays"


# -- the whole way: index, names on faces, write, read back --------------------------------------

def _make_set(folder: Path, orientations: list[int]) -> list[dict[str, Any]]:
    """Every orientation (of ``orientations``) with the metadata in the photo, the sidecar or
    both; the orientation only in the sidecar; Microsoft regions; a face the detector misses."""
    folder.mkdir()
    cases: list[dict[str, Any]] = []
    mark = 1
    for o in orientations:
        for where in ("photo", "sidecar", "both", "sidecar-orientation"):
            cases.append({"o": o, "where": where, "name": f"o{o}-{where}.jpg", "mark": mark})
            mark += 1
    cases.append({"o": 6, "where": "microsoft", "name": "microsoft.jpg", "mark": mark})
    cases.append({"o": 1, "where": "missed", "name": "missed.jpg", "mark": mark + 1})
    return cases


@pytest.fixture
def named_set(tmp_path: Path, run_json: Any, env: dict[str, str]) -> dict[str, Any]:
    """The whole test set: orientations 1-8."""
    return _named_set(tmp_path, run_json, env, list(range(1, 9)))


@pytest.fixture
def small_set(tmp_path: Path, run_json: Any, env: dict[str, str]) -> dict[str, Any]:
    """Orientations 2 and 6 only: for the tests of what follows the first read."""
    return _named_set(tmp_path, run_json, env, [2, 6])


def _named_set(tmp_path: Path, run_json: Any, env: dict[str, str], orientations: list[int]) -> dict[str, Any]:
    """The test set, written with the boxes the detector finds on the upright photo (grown by a
    tenth, as a hand would draw them)."""
    probe = tmp_path / "probe"
    probe.mkdir()
    save_jpeg(upright(0, missed=True), probe / "p.jpg", None)
    library, database = env["CLUSTERIDS_LIBRARY"], env.pop("CLUSTERIDS_DATABASE_URL", None)
    env["CLUSTERIDS_LIBRARY"] = str(tmp_path / "probe-library")  # a library of its own, on SQLite
    boxes = sorted(tuple(f["bbox"]) for f in run_json("faces")) if run_json("index", probe) else []
    env["CLUSTERIDS_LIBRARY"] = library
    if database:
        env["CLUSTERIDS_DATABASE_URL"] = database
    assert len(boxes) == 3, "the distant fourth face must be missed by the detector"
    W, H = 1000, 250
    grown = [((x1 - 0.05 * (x2 - x1)) / W, (y1 - 0.05 * (y2 - y1)) / H, (x2 + 0.05 * (x2 - x1)) / W,
              (y2 + 0.05 * (y2 - y1)) / H) for x1, y1, x2, y2 in boxes]
    x, y = 750 + MISSED_AT[0], MISSED_AT[1]
    grown.append(((x - 1) / W, (y - 1) / H, (x + 14) / W, (y + 16) / H))  # the distant face
    folder = tmp_path / "photos"
    cases = _make_set(folder, orientations)
    for case in cases:
        o, where, path = case["o"], case["where"], folder / case["name"]
        names = [n.lower() if case["mark"] % 2 else n for n in NAMES]  # "ann" is Ann
        shown = upright(case["mark"], missed=where == "missed")
        regions = [(n, orient.to_stored(b, o)) for n, b in zip(names, grown, strict=False)]
        if where == "missed":
            regions.append(("Dee", grown[3]))
        size = shown.size if not orient.swaps(o) else shown.size[::-1]
        save_jpeg(stored(shown, o), path, None if where == "sidecar-orientation" else o)
        info = mwg(regions, size)
        if where in ("photo", "both", "missed"):
            wrong = mwg([("Wrong", b) for _, b in regions], size) if where == "both" else info
            exiftool("-q", "-overwrite_original", f"-XMP-mwg-rs:RegionInfo={wrong}", path)
        if where in ("sidecar", "both"):
            exiftool("-q", f"-XMP-mwg-rs:RegionInfo={info}", f"{path}.xmp")
        if where == "sidecar-orientation":
            exiftool("-q", f"-XMP-mwg-rs:RegionInfo={info}", f"-XMP-tiff:Orientation#={o}", folder / f"{path.stem}.xmp")
        if where == "microsoft":
            exiftool("-q", "-overwrite_original", f"-XMP-MP:RegionInfoMP={microsoft(regions)}", path)
        case["regions"] = list(zip(names, grown[:3], strict=True)) + ([("Dee", grown[3])] if where == "missed" else [])
    return {"folder": folder, "cases": cases}


def _faces_by_photo(lib: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with lib.db.read() as s:
        names = {p.id: p.name for p in s.scalars(select(Person))}
        for face in s.scalars(select(Face).order_by(Face.id)):
            out.setdefault(Path(face.photo.path).name, []).append({
                "id": face.id, "box": face.bbox, "name": names.get(face.person_id) if face.person_id else None,
                "pinned": face.pinned, "origin": face.origin, "size": (face.photo.width, face.photo.height)})
    return out


def _check_names(faces: dict[str, list[dict[str, Any]]], cases: list[dict[str, Any]]) -> None:
    for case in cases:
        got = faces[case["name"]]
        w, h = got[0]["size"]
        for name, box in case["regions"]:
            want = (box[0] * w, box[1] * h, box[2] * w, box[3] * h)  # the region as displayed
            best = max(got, key=lambda f: orient.iou(tuple(f["box"]), want))
            assert orient.iou(tuple(best["box"]), want) >= 0.5, (case["name"], name)
            assert (best["name"] or "").lower() == name.lower() and best["pinned"], (case["name"], name, best)


@needs_shared
@needs_tools
def test_names_land_on_the_right_faces_in_every_orientation_and_write_back(named_set, run, run_json, open_lib,
                                                                           env, tmp_path) -> None:
    folder, cases = named_set["folder"], named_set["cases"]
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.jpg")}
    result = run_json("index", folder)
    assert result["names"]["faces_named"] == 3 * len(cases) + 1, result["names"]
    assert result["names"]["faces_from_metadata"] == 1
    people = {p["name"]: p for p in run_json("people")}
    assert sorted(n.lower() for n in people) == ["ann", "bob", "cy", "dee"]  # "ann" and "Ann": one person
    lib = open_lib()
    faces = _faces_by_photo(lib)
    lib.close()
    _check_names(faces, cases)
    assert [f["origin"] for f in faces["missed.jpg"] if f["name"] == "Dee"] == ["metadata"]
    # a second run reads nothing again
    again = run_json("index", folder)
    assert again["photos_unchanged"] == len(cases) and again["names"] is None
    # written back: a region of its name over every named face, read by exiftool; no photo changed
    (folder / "o1-photo.jpg.xmp").write_text("")  # nothing there: made anew
    exiftool("-q", "-XMP-dc:Title=Kept", folder / "o3-photo.jpg.xmp")
    wrote = run_json("xmp", "write", folder)
    assert wrote["written"] == len(cases) and not wrote["problems"], wrote
    assert before == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.jpg")}
    for case in cases:
        side = folder / f"{case['name']}.xmp"
        if not side.exists():
            side = folder / f"{Path(case['name']).stem}.xmp"
        info = read_back(side)
        o = case["o"]
        for face in faces[case["name"]]:
            if not face["name"]:
                continue
            w, h = face["size"]
            ours = [orient.to_display(b, o) for n, b in region_boxes(info) if (n or "").lower() == face["name"].lower()]
            assert ours, (case["name"], face["name"])
            mine = (face["box"][0] / w, face["box"][1] / h, face["box"][2] / w, face["box"][3] / h)
            assert max(orient.iou(b, mine) for b in ours) >= 0.9, (case["name"], face["name"])
            assert f"People/{face['name']}".lower() in [t.lower() for t in info["TagsList"]]
    assert read_back(folder / "o3-photo.jpg.xmp")["Title"] == "Kept"
    # the written sidecars are not a change: nothing is read again
    assert run_json("index", folder)["photos_unchanged"] == len(cases)
    # a fresh library that reads them gives the same persons and names
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    env["CLUSTERIDS_LIBRARY"] = str(tmp_path / "fresh")
    env.pop("CLUSTERIDS_DATABASE_URL", None)  # a new library on SQLite, whichever engine the first was on
    run_json("index", copy)
    assert sorted(p["name"] for p in run_json("people")) == sorted(people)
    fresh = open_library(load_settings({}, environ=env), create=False)
    again_faces = _faces_by_photo(fresh)
    fresh.close()
    for name, got in faces.items():
        assert sorted((f["name"] or "") for f in again_faces[name]) == sorted((f["name"] or "") for f in got), name


@needs_shared
@needs_tools
@pytest.mark.parametrize("database_url", [""])  # SQLite only: the whole set runs on both engines
def test_a_changed_sidecar_is_read_again_without_the_models_and_undo_reverts_it(small_set, run, run_json,
                                                                                 open_lib) -> None:
    folder = small_set["folder"]
    run_json("index", folder)
    lib = open_lib()
    ids = sorted(f["id"] for f in _faces_by_photo(lib)["o6-sidecar.jpg"])
    lib.close()
    side = folder / "o6-sidecar.jpg.xmp"
    info = read_back(side)
    renamed = [("Robert" if (n or "").lower() == "bob" else n, b) for n, b in region_boxes(info)]
    exiftool("-q", "-overwrite_original", f"-XMP-mwg-rs:RegionInfo={mwg(renamed, (250, 1000))}", side)
    result = run_json("index", folder)
    assert result["photos_sidecar"] == 1 and result["faces_added"] == 0 and result["names"]["faces_named"] == 1
    lib = open_lib()
    faces = _faces_by_photo(lib)["o6-sidecar.jpg"]
    lib.close()
    assert sorted(f["id"] for f in faces) == ids  # the same faces: the models did not run again
    assert "Robert" in {f["name"] for f in faces}
    assert "assign" in run("undo").stdout
    lib = open_lib()
    assert "Robert" not in {f["name"] for f in _faces_by_photo(lib)["o6-sidecar.jpg"]}
    # the orientation only in its sidecar turns the photo's preview too
    with lib.db.read() as s:
        turned = s.scalar(select(Photo).where(Photo.path == str(folder / "o6-sidecar-orientation.jpg")))
        assert turned is not None and (turned.orientation, turned.width, turned.height) == (6, 1000, 250)
    with Image.open(thumbs.photo_thumb(lib, turned.id)) as preview:
        assert preview.width > preview.height  # displayed upright: four faces side by side
    old = {f["id"] for f in _faces_by_photo(lib)["o6-sidecar-orientation.jpg"]}
    lib.close()
    # a sidecar that turns the photo another way runs the models again: the boxes must turn
    exiftool("-q", "-overwrite_original", "-XMP-tiff:Orientation#=1", folder / "o6-sidecar-orientation.xmp")
    result = run_json("index", folder)
    assert result["photos_changed"] == 1 and result["photos_sidecar"] == 0  # (sideways, the detector finds none)
    lib = open_lib()
    assert not old & {f["id"] for f in _faces_by_photo(lib)["o6-sidecar-orientation.jpg"]}
    with lib.db.read() as s:
        assert s.get(Photo, turned.id).orientation == 1
    lib.close()


@needs_shared
@needs_tools
@pytest.mark.parametrize("database_url", [""])
def test_sidecars_follow_each_correction_and_are_not_read_back_as_a_change(small_set, run, run_json, env) -> None:
    folder = small_set["folder"]
    env["CLUSTERIDS_XMP_WRITE"] = "sidecar"
    run_json("index", folder)
    bob = next(p for p in run_json("people") if p["name"].lower() == "bob")
    run("rename", str(bob["id"]), "Robert")
    info = read_back(folder / "o2-sidecar.jpg.xmp")
    assert "Robert" in [n for n, _ in region_boxes(info)] and "People/Robert" in info["TagsList"]
    made = read_back(folder / "o2-photo.jpg.xmp")  # a photo that had none gets a sidecar
    assert "Robert" in [n for n, _ in region_boxes(made)]
    assert run_json("index", folder)["photos_unchanged"] == len(small_set["cases"])
    # --embed: into the photo itself, through exiftool, the original kept beside it
    photo = folder / "o6-sidecar.jpg"
    original = photo.read_bytes()
    assert run_json("xmp", "write", "--embed", photo)["written"] == 1
    assert (folder / "o6-sidecar.jpg_original").read_bytes() == original and photo.read_bytes() != original
    assert "Robert" in [n for n, _ in region_boxes(read_back(photo))]
    assert run_json("index", folder)["photos_unchanged"] == len(small_set["cases"])  # not a change to index


@needs_shared
@pytest.mark.parametrize("database_url", [""])
def test_without_exempi_the_photos_are_indexed_and_one_line_says_why(small_set, run_json, monkeypatch) -> None:
    from clusterids.errors import UserError

    def missing() -> None:
        raise UserError(*packet.MISSING)

    monkeypatch.setattr(packet, "exempi", missing)
    result = run_json("index", small_set["folder"])
    assert result["photos_new"] == len(small_set["cases"]) and result["photos_failed"] == 0
    assert [w["reason"] for w in result["warnings"]] == [f"{packet.MISSING[0]}: {packet.MISSING[1]}"]


@needs_shared
@needs_tools
@pytest.mark.parametrize("database_url", [""])  # a crash kills the library's own files: SQLite, as tests/faults
def test_names_read_before_a_crash_are_applied_by_the_next_command_and_only_once(small_set, run_json, env) -> None:
    from clusterids.faults import CRASH_EXIT

    from .faults.conftest import cli_proc, problems

    folder, cases = small_set["folder"], small_set["cases"]
    crashed = cli_proc(env, "index", folder, crash="index.after_commit")  # photos stored, no catch-up yet
    assert crashed.returncode == CRASH_EXIT, crashed.stderr
    assert any("XMP names are not yet applied" in p for p in problems(env, repair=False))
    crashed = cli_proc(env, "status", crash="names.after_apply")  # the next command's catch-up, cut short
    assert crashed.returncode == CRASH_EXIT, crashed.stderr
    assert problems(env) == []  # the one after it finishes, and finds nothing to do twice
    settings = load_settings({}, environ=env)
    with open_library(settings) as lib:
        _check_names(_faces_by_photo(lib), cases)
        with lib.db.read() as s:
            assigned = [j.args for j in s.scalars(select(Journal).where(Journal.op == "assign"))]
            made = list(s.scalars(select(Face).where(Face.origin == "metadata")))
    assert len(assigned) == 4 and len(made) == 1  # Ann, Bob, Cy and Dee once each; Dee's face made once
    assert run_json("index", folder)["photos_unchanged"] == len(cases)


def test_a_sidecar_event_is_its_photo_s(tmp_path: Path) -> None:
    from watchdog.events import FileModifiedEvent, FileMovedEvent

    from clusterids.daemon.watcher import Handler, Pending

    for name in ("a.jpg", "b.HEIC", "b.xmp", "a.jpg.xmp"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "albums").mkdir()
    pending = Pending(100)
    handler = Handler(pending, [str(tmp_path / "albums")])
    handler.on_any_event(FileModifiedEvent(str(tmp_path / "a.jpg.xmp")))
    handler.on_any_event(FileMovedEvent(str(tmp_path / ".b.xmp.1234.tmp"), str(tmp_path / "b.xmp")))
    handler.on_any_event(FileModifiedEvent(str(tmp_path / "albums" / "c.jpg.xmp")))
    assert sorted(pending.paths) == [str(tmp_path / "a.jpg"), str(tmp_path / "b.HEIC")]


@pytest.mark.skipif(not packet.available(), reason="needs Exempi (apt-get install libexempi8)")
def test_a_latin_1_sidecar_is_read_with_its_names(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Valid XML in the encoding its declaration names: the toolkit takes UTF-8 only, and called
    it damaged (printing its own bare "XML parsing failure"), so its names were not read."""
    latin = SIDECAR.replace('mwg-rs:Name="Ann"', 'mwg-rs:Name="Jos\u00e9"')
    path = tmp_path / "p.jpg.xmp"
    path.write_bytes(b'<?xml version="1.0" encoding="ISO-8859-1"?>' + latin.encode("latin-1"))
    meta, problem = sidecars.read_sidecar(str(path))
    assert problem is None and meta is not None and [r.name for r in meta.regions] == ["Jos\u00e9"]
    assert "XML parsing failure" not in capfd.readouterr().err


def test_a_sidecar_that_is_a_link_stays_a_link(tmp_path: Path) -> None:
    """Sidecars kept in a folder of their own, linked beside the photos: a write replaced the
    link by a plain file and left the file it pointed at as it was."""
    kept = tmp_path / "sidecars" / "p.jpg.xmp"
    kept.parent.mkdir()
    kept.write_text("old")
    link = tmp_path / "p.jpg.xmp"
    link.symlink_to(kept)
    write.write_atomic(str(link), "new")
    assert link.is_symlink() and kept.read_text() == "new"
