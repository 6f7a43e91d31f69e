"""An edited photo (its content changed: a re-save, an exposure change) is read again, and what
the user did to its faces goes over to the new faces: a name, a pin, a rejection, a face marked
by hand. Before, the name given to its only face went with the old face, and the person too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from clusterids.app import open_core
from clusterids.config import load_settings
from clusterids.store import reads

from .conftest import LFW, SCRFD_PACK, needs_shared, on_sqlite


@needs_shared
def test_an_edited_photo_keeps_its_names_rejections_and_hand_faces(tmp_path: Path, env, run_json) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for p in sorted((LFW / "Aaron_Sorkin").glob("*.jpg")):
        shutil.copy(p, folder / p.name)
    edited, other = sorted(folder.glob("*.jpg"))
    run_json("--model", SCRFD_PACK, "index", folder)
    faces = {Path(f["photo"]).name: f["id"] for f in run_json("faces")}
    ann = run_json("assign", faces[edited.name], "Ann Edit")["person"]
    bea = run_json("assign", faces[other.name], "Bea Edit")["person"]
    run_json("reject", faces[edited.name], "Bea Edit")
    hand = run_json("mark-face", edited, "150,150,195,195", "Hand Made")

    with Image.open(edited) as img:
        img.load()
        img.save(edited, quality=70)  # the same pixels' size, another content
    result = run_json("index", folder)
    assert result["photos_changed"] == 1, result
    now = [f for f in run_json("faces") if Path(f["photo"]).name == edited.name]
    detected = [f for f in now if f["id"] != hand["face"]]
    assert len(detected) == 1 and detected[0]["id"] != faces[edited.name]  # a new face...
    assert detected[0]["person"] == ann  # ...with the name the old one had
    assert [f["person"] for f in now if f["id"] == hand["face"]] == [hand["person"]]  # the hand face stays
    assert {p["name"] for p in run_json("people")} == {"Ann Edit", "Bea Edit", "Hand Made"}
    core = open_core(load_settings({}, environ=env))
    try:
        with core.lib.db.read() as s:
            assert reads.get_face(s, detected[0]["id"]).pinned
            assert reads.rejections(s, face_id=detected[0]["id"]) == [(detected[0]["id"], bea)]
    finally:
        core.lib.close()

    with Image.open(edited) as img:  # cropped: the hand face moves as the detector's face moved
        img.crop((20, 30, 220, 230)).save(edited, quality=90)
    run_json("index", folder)
    now = {f["id"]: f for f in run_json("faces") if Path(f["photo"]).name == edited.name}
    assert now[hand["face"]]["bbox"] == pytest.approx([130, 120, 175, 165], abs=3)
    assert now[hand["face"]]["person"] == hand["person"]
    (latest,) = [f for i, f in now.items() if i != hand["face"]]
    assert latest["person"] == ann and latest["id"] != detected[0]["id"]  # carried twice

    with Image.open(edited) as img:  # a smaller frame but not a crop: nothing says where the box went
        img.resize((160, 160)).save(edited, quality=90)
    run_json("index", folder)
    now = {f["id"]: f for f in run_json("faces") if Path(f["photo"]).name == edited.name}
    assert hand["face"] not in now and len(now) == 1, now
    (latest,) = now.values()
    assert latest["person"] == ann

    # undo of a correction made before the edits reaches the face that took it over
    def rejections() -> list[tuple[int, int]]:
        core = open_core(load_settings({}, environ=env))
        try:
            with core.lib.db.read() as s:
                return reads.rejections(s, face_id=latest["id"])
        finally:
            core.lib.close()

    assert rejections() == [(latest["id"], bea)]
    assert [run_json("undo")["undone"] for _ in range(2)] == ["mark_face", "reject"]
    assert rejections() == [] and bea in {p["id"] for p in run_json("people")}


@needs_shared
@on_sqlite
def test_two_people_who_swap_places_in_an_edit_keep_their_own_names(tmp_path: Path, run_json) -> None:
    """The halves of a photo of two people swapped (a mirror, a turn): the box over each name's
    old place now holds the other person; each name follows its own face, found by its vector."""
    folder = tmp_path / "photos"
    folder.mkdir()
    left, right = (sorted((LFW / name).glob("*.jpg"))[0] for name in ("Aaron_Sorkin", "AJ_Cook"))
    pair = folder / "pair.jpg"

    def compose(first: Path, second: Path) -> None:
        with Image.open(first) as a, Image.open(second) as b:
            both = Image.new("RGB", (a.width + b.width, max(a.height, b.height)))
            both.paste(a, (0, 0))
            both.paste(b, (a.width, 0))
            both.save(pair, quality=92)

    compose(left, right)
    run_json("--model", SCRFD_PACK, "index", folder)
    faces = sorted(run_json("faces"), key=lambda f: f["bbox"][0])
    assert len(faces) == 2, faces
    run_json("assign", faces[0]["id"], "Left Person")
    run_json("assign", faces[1]["id"], "Right Person")
    compose(right, left)
    run_json("index", folder)
    now = sorted(run_json("faces"), key=lambda f: f["bbox"][0])
    names = {p["id"]: p["name"] for p in run_json("people")}
    assert [names.get(f["person"]) for f in now] == ["Right Person", "Left Person"]


@needs_shared
@on_sqlite
def test_a_photo_overwritten_by_a_copy_of_another_keeps_its_names(tmp_path: Path, run_json) -> None:
    """An edit undone by copying the original back over it (the content is known: its faces are
    copied, no models run): the edit's own names and rejections go over to the copied faces."""
    folder = tmp_path / "photos"
    folder.mkdir()
    original = folder / "original.jpg"
    shutil.copy(sorted((LFW / "Aaron_Sorkin").glob("*.jpg"))[0], original)
    edit = folder / "edit.jpg"
    with Image.open(original) as img:
        img.save(edit, quality=70)
    run_json("--model", SCRFD_PACK, "index", folder)
    faces = {Path(f["photo"]).name: f["id"] for f in run_json("faces")}
    ann = run_json("assign", faces["edit.jpg"], "Ann Edit")["person"]
    run_json("assign", faces["original.jpg"], "Other Name")
    shutil.copy(original, edit)  # the edit undone: the file now holds the original's bytes
    result = run_json("index", folder)
    assert result["photos_reused"] == 1 and result["faces_added"] == 1, result
    (now,) = [f for f in run_json("faces") if Path(f["photo"]).name == "edit.jpg"]
    assert now["id"] != faces["edit.jpg"] and now["person"] == ann
    assert {p["name"] for p in run_json("people")} == {"Ann Edit", "Other Name"}
    assert run_json("undo")["undone"] == "assign"  # "Other Name" on the original
    run_json("undo")  # "Ann Edit", made on the face before the copy, reaches the face now there
    (back,) = [f for f in run_json("faces") if Path(f["photo"]).name == "edit.jpg"]
    assert back["person"] != ann


@needs_shared
def test_a_photo_briefly_unreadable_comes_back_with_its_name(tmp_path: Path, run_json) -> None:
    """A file half-copied, or emptied while a program saves it, fails for a while: its faces stay
    with what was done to them, and the photo read whole again gives them to its faces."""
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / "ann.jpg"
    shutil.copy(sorted((LFW / "Aaron_Sorkin").glob("*.jpg"))[0], photo)
    whole = photo.read_bytes()
    run_json("--model", SCRFD_PACK, "index", folder)
    (face,) = run_json("faces")
    ann = run_json("assign", face["id"], "Ann")["person"]
    photo.write_bytes(whole[: len(whole) // 3])  # cut short
    assert run_json("index", folder)["photos_failed"] == 1
    assert {p["name"] for p in run_json("people")} == {"Ann"}
    photo.write_bytes(b"")  # emptied
    run_json("index", folder)
    photo.write_bytes(whole)
    run_json("index", folder)
    (now,) = run_json("faces")
    assert now["person"] == ann
    assert run_json("undo")["undone"] == "assign"  # the name reaches the face now there
    (back,) = run_json("faces")
    assert back["person"] != ann


@needs_shared
@on_sqlite
def test_a_photo_turned_in_its_pixels_keeps_its_name(tmp_path: Path, run_json) -> None:
    """Turned a quarter in an editor (the pixels, no EXIF orientation): the face is found on its
    side, straightened, and its vector is the same person's, which hands the name over."""
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / "ann.jpg"
    shutil.copy(sorted((LFW / "AJ_Cook").glob("*.jpg"))[0], photo)
    run_json("--model", SCRFD_PACK, "index", folder)
    (face,) = run_json("faces")
    ann = run_json("assign", face["id"], "Ann")["person"]
    with Image.open(photo) as img:
        img.transpose(Image.Transpose.ROTATE_90).save(photo, quality=95)
    run_json("index", folder)
    (now,) = run_json("faces")
    assert now["id"] != face["id"] and now["person"] == ann
