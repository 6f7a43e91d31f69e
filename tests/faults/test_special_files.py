"""Item 22.2: nothing blocks the writer. A FIFO, a device or a link to one, named like a photo,
is failed with its reason and never opened for reading (a FIFO's open waits for a writer that
never comes; /dev/zero never ends)."""

from __future__ import annotations

import json
import os
import shutil
import time

from ..conftest import lfw_people, needs_shared
from .conftest import cli_proc


@needs_shared
def test_fifo_and_devices_are_failed_not_read(flib, tmp_path):
    folder = flib["photos"] / "special"
    folder.mkdir()
    os.mkfifo(folder / "pipe.jpg")
    os.symlink("/dev/zero", folder / "zero.jpg")
    shutil.copy(lfw_people(1)[0], folder / "fine.jpg")
    os.mkfifo(folder / "fine.jpg.xmp")  # its sidecar, as digiKam names them
    started = time.monotonic()
    indexed = cli_proc(flib["env"], "index", folder, "--json", timeout=60)
    assert indexed.returncode == 0, indexed.stderr
    assert json.loads(indexed.stdout)["photos_new"] == 1
    status = cli_proc(flib["env"], "status", "--failed", "--json", timeout=60)
    failed = json.loads(status.stdout)["failed_files"]
    reasons = {os.path.basename(f["path"]): f["reason"] for f in failed}
    assert "FIFO" in reasons["pipe.jpg"] and "character device" in reasons["zero.jpg"], reasons

    found = cli_proc(flib["env"], "search", folder / "pipe.jpg", timeout=30)
    lines = found.stderr.strip().splitlines()
    assert found.returncode == 1 and len(lines) == 1 and "FIFO" in lines[0], found.stderr
    assert time.monotonic() - started < 60


@needs_shared
def test_a_broken_xmp_sidecar_is_one_line_that_names_it(flib):
    """The XMP toolkit prints a bare "XML parsing failure" on the process's own stderr for a packet
    that is not XML; the packet is checked first, and the one line says which file and what to do."""
    folder = flib["photos"] / "broken-xmp"
    folder.mkdir()
    shutil.copy(lfw_people(1)[0], folder / "fine.jpg")
    (folder / "fine.jpg.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Descr')
    indexed = cli_proc(flib["env"], "index", folder, "--json", timeout=120)
    assert indexed.returncode == 0, indexed.stderr
    assert "XML parsing failure" not in indexed.stderr, indexed.stderr
    (warning,) = json.loads(indexed.stdout)["warnings"]
    assert "fine.jpg.xmp is damaged" in warning["reason"] and "fix or remove it" in warning["reason"]
