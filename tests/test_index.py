"""Indexing a photo folder into a persistent library: the CLI end to end on real photos."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from clusterids.app import open_library
from clusterids.indexer import pipeline, stages
from clusterids.store.db import Face, Photo

from .conftest import SCRFD_PACK, SOLVAY, lfw_people, needs_shared, on_sqlite, photo_count


@needs_shared
@on_sqlite
def test_index_finds_solvay_faces_and_lfw_faces(run_json, tmp_path, env):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(SOLVAY, folder)
    lfw = lfw_people(200, max_photos=1)[:200]
    for p in lfw:
        shutil.copy(p, folder / p.name)
    report = run_json("--model", SCRFD_PACK, "index", folder)
    assert report["photos_new"] == 201 and report["photos_failed"] == 0
    status = run_json("status")
    assert status["vectors"] == status["faces"] == report["faces_added"]
    assert status["photos"] == 201 and status["dim"] == 128
    lib = open_library(_load(env))
    try:
        with lib.db.read() as s:
            per_photo = dict(s.execute(
                select(Photo.path, func.count(Face.id)).join(Face, isouter=True).group_by(Photo.id)
            ).all())
    finally:
        lib.close()
    assert per_photo[str(folder / SOLVAY.name)] == 29
    with_face = sum(1 for p in lfw if per_photo[str(folder / p.name)] >= 1)
    assert with_face >= 0.98 * len(lfw)


@needs_shared
def test_second_index_opens_nothing(run_json, photos, monkeypatch):
    first = run_json("index", photos)
    assert first["photos_new"] == 13 and first["faces_added"] > 13
    opened = []
    real_read = stages.read
    monkeypatch.setattr(stages, "read", lambda *a, **k: opened.append(a) or real_read(*a, **k))
    again = run_json("index", photos)
    assert opened == []
    assert again["photos_unchanged"] == 13
    assert again["photos_new"] == again["faces_added"] == again["photos_failed"] == 0


@needs_shared
def test_copy_is_reused_move_keeps_faces_delete_removes(run_json, photos, env):
    run_json("index", photos)
    status = run_json("status")
    solvay = photos / SOLVAY.name
    n_solvay = len(_face_ids_of(env, solvay))
    shutil.copy(solvay, photos / "copy.jpg")
    report = run_json("index", photos)
    assert report["photos_reused"] == 1 and report["faces_added"] == n_solvay
    lib_faces_before = _face_ids_of(env, photos / "copy.jpg")
    moved = photos / "sub" / "moved.jpg"
    moved.parent.mkdir()
    os.rename(photos / "copy.jpg", moved)
    report = run_json("index", photos)
    assert report["photos_reused"] == 1 and report["photos_removed"] == 0 and report["faces_added"] == 0
    assert _face_ids_of(env, moved) == lib_faces_before
    os.remove(moved)
    report = run_json("index", photos)
    assert report["photos_removed"] == 1
    after = run_json("status")
    assert after["faces"] == after["vectors"] == status["faces"]
    lib = open_library(_load(env))
    try:
        assert not set(lib_faces_before) & set(lib.index.ids())
    finally:
        lib.close()


@needs_shared
@on_sqlite
def test_a_copy_of_a_photo_is_not_a_second_sighting(run_json, photos, env, tmp_path):
    """The same photos kept twice (a folder copied into the library): every stranger of the
    group photo made a person of two, their face and its copy; now the copies take their
    original's person, and the persons are those of the photos alone."""
    run_json("index", photos)
    run_json("recluster")
    before = run_json("people")
    shutil.copytree(photos, tmp_path / "copies")
    shutil.move(tmp_path / "copies", photos / "copies")
    report = run_json("index", photos)
    assert report["photos_reused"] == len(list((photos / "copies").rglob("*.jpg"))) == 13
    for step in ("index", "recluster"):  # the incremental step's persons, then a full recluster's
        if step == "recluster":
            run_json("recluster")
        after = run_json("people")
        assert len(after) == len(before), (before, after)
        assert sorted(p["faces"] for p in after) == sorted(2 * p["faces"] for p in before)


def _load(env):
    from clusterids.config import load_settings

    return load_settings({}, environ=env)


def _face_ids_of(env, path: Path) -> list[int]:
    lib = open_library(_load(env))
    try:
        with lib.db.read() as s:
            return sorted(s.scalars(select(Face.id).join(Photo).where(Photo.path == str(path))))
    finally:
        lib.close()


@needs_shared
def test_changed_photo_replaces_its_faces(run_json, photos, env):
    run_json("index", photos)
    target = next(photos.glob("*/*.jpg"))
    before = _face_ids_of(env, target)
    Image.open(SOLVAY).save(target, quality=80)  # same name, content the library has never seen
    report = run_json("index", photos)
    assert report["photos_changed"] == 1 and report["faces_added"] >= 29
    after = _face_ids_of(env, target)
    assert len(after) == report["faces_added"] and not set(before) & set(after)


@needs_shared
@on_sqlite
def test_touched_photo_stays_unchanged(run_json, photos):
    run_json("index", photos)
    target = next(photos.glob("*/*.jpg"))
    os.utime(target, (time.time() + 5, time.time() + 5))
    report = run_json("index", photos)
    assert report["photos_unchanged"] == 13 and report["faces_added"] == 0


def _write_bad_inputs(folder: Path, lfw_photo: Path) -> dict[str, str]:
    """Each bad input as a real file; returns name -> expected words in its reason."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.jpg").write_bytes(b"")
    data = lfw_photo.read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (folder / "notes.jpg").write_text("this is a text file, not a photo\n")
    Image.new("L", (3000, 3000)).save(folder / "bomb.png")  # over the test's max_pixels
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "dangling.jpg").symlink_to(folder / "nowhere.jpg")
    os.close(os.open(os.fsencode(folder) + b"/bad-\xff\xfe.jpg", os.O_CREAT | os.O_WRONLY, 0o644))
    shutil.copy(lfw_photo, folder / "good.jpg")
    return {
        "empty.jpg": "empty",
        "truncated.jpg": "decode",
        "notes.jpg": "not an image",
        "bomb.png": "over the limit",
        "dangling.jpg": "vanished",
        "bad-\\xff\\xfe.jpg": "UTF-8",
    }


@needs_shared
@on_sqlite
def test_bad_inputs_are_recorded_and_the_run_goes_on(run, run_json, tmp_path):
    lfw_photo = lfw_people(1)[0]
    folder = tmp_path / "bad"
    expected = _write_bad_inputs(folder, lfw_photo)
    report = run_json("--set", "max_pixels=4000000", "index", folder)
    assert report["photos_new"] == 1 and report["faces_added"] >= 1
    assert report["photos_failed"] == len(expected)
    status = run_json("--set", "max_pixels=4000000", "status", "--failed")
    reasons = {Path(f["path"]).name: f["reason"] for f in status["failed_files"]}
    for name, words in expected.items():
        assert words.lower() in reasons[name].lower(), (name, reasons[name])
    # the text output names each file with its reason, one line each
    text = run("status", "--failed").stdout
    assert any(line.startswith("failed: ") and "notes.jpg" in line for line in text.splitlines())
    # a later successful read clears the failure
    shutil.copy(lfw_people(2, max_photos=1)[1], folder / "truncated.jpg")
    report = run_json("--set", "max_pixels=4000000", "index", folder)
    assert report["photos_changed"] == 1
    status = run_json("status", "--failed")
    assert "truncated.jpg" not in {Path(f["path"]).name for f in status["failed_files"]}


@needs_shared
@on_sqlite
def test_vanished_between_scan_and_read(run_json, photos, monkeypatch):
    real_plan = pipeline.plan
    victim = next(photos.glob("*/*.jpg"))

    def plan_then_delete(*args, **kwargs):
        out = real_plan(*args, **kwargs)
        victim.unlink()
        return out

    monkeypatch.setattr(pipeline, "plan", plan_then_delete)
    report = run_json("index", photos)
    assert report["photos_failed"] == 1 and report["photos_new"] == 12
    assert "vanished" in report["failures"][0]["reason"]


def _drop_dac_capabilities() -> None:
    """In the child, before exec: root without CAP_DAC_OVERRIDE/READ_SEARCH obeys file modes."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl")


@needs_shared
@pytest.mark.skipif(sys.platform != "linux", reason="needs Linux file modes")
@on_sqlite
def test_unreadable_file_is_recorded(tmp_path, env):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(lfw_people(1)[0], folder / "ok.jpg")
    shutil.copy(lfw_people(2, max_photos=1)[1], folder / "secret.jpg")
    os.chmod(folder / "secret.jpg", 0)
    proc = subprocess.run(
        [sys.executable, "-m", "clusterids.cli", "index", "--json", str(folder)],
        env=dict(os.environ) | env, capture_output=True, text=True, timeout=120,
        preexec_fn=_drop_dac_capabilities if os.geteuid() == 0 else None,
    )
    assert proc.returncode == 0, proc.stderr
    import json

    report = json.loads(proc.stdout)
    assert report["photos_new"] == 1 and report["photos_failed"] == 1
    assert "permission denied" in report["failures"][0]["reason"].lower()


@needs_shared
@on_sqlite
def test_formats_and_exif_rotation(run_json, tmp_path, env):
    src = Image.open(lfw_people(1)[0]).convert("RGB")
    folder = tmp_path / "formats"
    folder.mkdir()
    for ext in ("png", "webp", "tiff", "bmp", "heic"):
        src.save(folder / f"face.{ext}")
    # stored rotated on its side, with EXIF saying so: detection must see it upright
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8769)[36867] = "2021:06:01 12:30:00"
    src.transpose(Image.Transpose.ROTATE_90).resize((250, 400)).save(folder / "rotated.jpg", exif=exif)
    report = run_json("index", folder)
    assert report["photos_new"] == 6 and report["photos_failed"] == 0
    lib = open_library(_load(env))
    try:
        with lib.db.read() as s:
            rows = {Path(p.path).name: p for p in s.scalars(select(Photo))}
            for name, photo in rows.items():
                assert photo.faces, f"no face found in {name}"
            rotated = rows["rotated.jpg"]
            assert (rotated.width, rotated.height) == (400, 250)
            assert rotated.taken_at == "2021-06-01T12:30:00"
            box = rotated.faces[0]
            assert box.x2 <= 400.5 and box.y2 <= 250.5
    finally:
        lib.close()


@needs_shared
@on_sqlite
def test_large_photo_is_decoded_reduced_and_boxes_are_in_original_pixels(run_json, tmp_path, env):
    folder = tmp_path / "big"
    folder.mkdir()
    Image.open(SOLVAY).resize((6000, 4342)).save(folder / "big.jpg", quality=90)
    run_json("--set", "decode_max_side=1500", "index", folder)
    lib = open_library(_load(env))
    try:
        with lib.db.read() as s:
            photo = s.scalar(select(Photo))
            assert (photo.width, photo.height) == (6000, 4342)
            assert len(photo.faces) >= 27
            assert max(f.x2 for f in photo.faces) > 3000  # original coordinates, not the 1500 px decode
    finally:
        lib.close()


@needs_shared
def test_sigkill_during_index_then_index_again(tmp_path, env):
    folder = tmp_path / "photos"
    folder.mkdir()
    files = lfw_people(20, max_photos=2)
    for p in files:
        shutil.copy(p, folder / p.name)
    child_env = dict(os.environ) | env
    cmd = [sys.executable, "-m", "clusterids.cli", "index", str(folder)]
    proc = subprocess.Popen(cmd, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill once some photos are committed, mid-run
        time.sleep(0.2)
        if (photo_count(env) or 0) >= 10:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = subprocess.run(cmd + ["--json"], env=child_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lib = open_library(_load(env))
    try:
        with lib.db.read() as s:
            paths = list(s.scalars(select(Photo.path)))
            assert sorted(paths) == sorted(str(folder / p.name) for p in files)
            face_ids = set(s.scalars(select(Face.id)))
        assert set(lib.index.ids()) == face_ids
        assert lib.index.count() == len(face_ids)
    finally:
        lib.close()


@needs_shared
def test_open_repairs_vectors_after_a_crash(photos, settings):
    from clusterids.app import open_core

    with open_core(settings, create=True) as core:
        core.library.index([str(photos)])
    lib = open_library(settings)
    ids = sorted(lib.index.ids())
    lib.index.delete(ids[:3])  # as if killed between the database commit and the vector write
    import numpy as np

    lib.index.upsert([999_999], np.ones((1, lib.dim), np.float32), [None], [1])
    with lib.db.transaction() as s:
        from clusterids.store.db import set_meta

        set_meta(s, "vectors_dirty", "1")
    lib.close()
    with open_core(settings) as again:  # the next open puts the vector index back in step by itself
        assert sorted(again.lib.index.ids()) == ids


@needs_shared
def test_rebuild_index_without_models(run, run_json, photos, env):
    run_json("index", photos)
    faces = run_json("status")["faces"]
    shutil.rmtree(Path(env["CLUSTERIDS_LIBRARY"]) / "vectors")
    out = run("rebuild-index").stdout
    assert f"{faces} vectors" in out
    assert run_json("status")["vectors"] == faces


@needs_shared
@on_sqlite
def test_qdrant_server_adapter_through_qdrant_client(run_json, photos):
    """qdrant-client's in-process mode has the server's client API. Each command here starts
    with an empty in-memory collection, so each open also exercises the repair from SQLite."""
    server = ("--set", "vector_store_url=:memory:")
    report = run_json(*server, "index", photos)
    assert report["faces_added"] > 0
    status = run_json(*server, "status")
    assert status["vectors"] == status["faces"] == report["faces_added"]
    run_json(*server, "recluster")
    person = run_json(*server, "people")[0]["id"]
    probe = Path(run_json(*server, "photos", "--person", person)[0])
    assert run_json(*server, "search", probe)[0]["matches"][0]["person"] == person


@needs_shared
def test_pack_mismatch_and_reindex(run, run_json, photos):
    run_json("index", photos)  # a new library takes the open pack here (no buffalo_l)
    bad = run("--model", SCRFD_PACK, "index", photos, ok=False)
    assert bad.exit_code == 1
    assert bad.stderr.count("\n") == 1 and "reindex" in bad.stderr
    run_json("recluster")
    named = run_json("people")[0]
    run_json("rename", named["id"], "Kept Name")
    photos_before = run_json("photos", "--person", "Kept Name")
    result = run_json("reindex", "--model", SCRFD_PACK)
    assert result["model"] == str(SCRFD_PACK.resolve())
    assert result["faces_added"] > 0 and result["faces_carried"] >= named["faces"]
    status = run_json("status")
    assert status["model"] == str(SCRFD_PACK.resolve()) and status["vectors"] == status["faces"]
    # the person, its name and its photos came through the change of model
    assert run_json("photos", "--person", "Kept Name") == photos_before
    run_json("recluster")
    assert run_json("photos", "--person", "Kept Name") == photos_before


@needs_shared
@on_sqlite
def test_new_library_says_which_pack_and_why(run, photos):
    result = run("index", photos)
    assert "model pack: open" in result.stderr and "buffalo_l is not in" in result.stderr


@needs_shared
@on_sqlite
def test_wrong_library_and_missing_pack_are_one_line(run, tmp_path, photos):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    for args in (("--library", not_a_folder, "index", photos),
                 ("--library", tmp_path / "none", "status"),
                 ("--library", tmp_path / "new", "--model", tmp_path / "nopack", "index", photos),
                 ("--library", tmp_path / "new2", "--model", "buffalo_l", "index", photos)):
        result = run(*args, ok=False)
        assert result.exit_code == 1, args
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr


@needs_shared
@on_sqlite
def test_models_json_lists_packs(run_json):
    packs = {p["name"]: p for p in run_json("models")}
    assert packs["buffalo_l"]["dim"] == 512 and "non-commercial" in packs["buffalo_l"]["licence"]
    assert packs["buffalo_l"]["installed"] is False
    assert packs["open"] == {"name": "open", "dim": 128, "licence": "YuNet: MIT; SFace: Apache-2.0",
                             "installed": True}


@needs_shared
@on_sqlite
def test_vector_index_is_optimized_past_the_threshold(run_json, photos):
    report = run_json("--set", "hnsw_min_points=10", "index", photos)
    assert report["index_optimized"] is True
    status = run_json("status")
    assert status["vectors"] == status["faces"] > 10
    probe = next(photos.glob("*/*.jpg"))
    assert run_json("search", probe)[0]["bbox"]  # search still answers after optimize()
    shutil.copy(probe, photos / "again.jpg")
    assert run_json("--set", "hnsw_min_points=10", "index", photos)["index_optimized"] is False  # grew < 50%
