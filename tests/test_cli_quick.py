"""Issue 21: the read commands' short way (cli/quick.py: stdlib sqlite3 without a daemon, plain
JSON through one) answers what the full way answers, word for word; where it could not, the
full way runs and says what it says. Whether the short way ran is pinned by what the command
imported (tests/test_cli_imports.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from clusterids import sources
from clusterids.cli import quick
from clusterids.config import Settings, _Environ, load_settings
from clusterids.core import operations

from .synthetic import DIM, add_photos, open_synthetic, people_photos, unit
from .test_cli_imports import daemon  # noqa: F401 - the fixture, over this module's library
from .test_cli_words import build, runner

READS = [["people"], ["people", "--all"], ["faces"], ["faces", "--person", "1"], ["faces", "--person", "anna maría"],
         ["faces", "--unknown"], ["faces", "--ignored"], ["photos", "--person", "1"],
         ["photos", "--person", "1", "--person", "2"], ["photos", "--person", "1", "--person", "2", "--any"],
         ["photos", "--person", "3"], ["faces", "--person", "nobody"], ["faces", "--person", "99999999999999999999"],
         ["status"], ["status", "--failed"]]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Four persons (one named, one hidden, one merged into another), a photo of two of them, an
    unknown face and an ignored one."""
    tmp = tmp_path_factory.mktemp("quick")
    faces = people_photos(4, 3)
    env = build(tmp, faces + [[faces[0][0], faces[3][0]]])
    lib = open_synthetic(load_settings({}, environ=env))
    try:
        rng = np.random.default_rng(3)
        add_photos(lib, tmp / "photos", [[unit(rng.normal(size=DIM))], [unit(rng.normal(size=DIM))]], start=100)
    finally:
        lib.close()
    run = runner(env)
    people = json.loads(run("people", "--json").stdout)
    run("rename", people[0]["id"], "Anna María")
    run("hide", people[1]["id"])
    run("merge", people[2]["id"], people[3]["id"])
    unknown = json.loads(run("faces", "--unknown", "--json").stdout)
    run("ignore", unknown[0]["id"])
    return env


def both_ways(env: dict[str, str], args: list[str]) -> tuple[tuple[int, str], tuple[int, str]]:
    """(exit status, output) the short way, then the full way (an albums_dir sends it there)."""
    run = runner(env)
    short = run(*args, ok=False)
    full = run(*args, ok=False, environ=env | {"CLUSTERIDS_ALBUMS_DIR": env["CLUSTERIDS_LIBRARY"] + "/albums"})
    return (short.exit_code, short.output), (full.exit_code, full.output)


@pytest.mark.parametrize("args", READS, ids=" ".join)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_the_short_way_answers_what_the_full_way_answers(library, args, as_json):
    short, full = both_ways(library, args + (["--json"] if as_json else []))
    assert short == full
    assert "persons are named" not in short[1]


def test_the_library_is_one_the_short_way_reads(library):
    from clusterids.store.quick import open_quick

    found = open_quick(Path(library["CLUSTERIDS_LIBRARY"]))
    assert found is not None
    found.close()


def test_a_wrong_config_is_said_the_full_way(library, tmp_path):
    config = Path(library["CLUSTERIDS_LIBRARY"]) / "config.toml"
    kept = config.read_text()
    try:
        config.write_text(kept + "\nno_such_setting = 1\n")
        result = runner(library)("people", ok=False)
        assert result.exit_code == 1 and "unknown setting 'no_such_setting'" in result.output
    finally:
        config.write_text(kept)


def test_the_setting_names_are_the_settings():
    assert set(Settings.model_fields) == sources.SETTING_NAMES
    assert Settings.model_fields["lease_seconds"].default == quick.LEASE_SECONDS


def test_status_without_its_vector_index_goes_the_full_way(library):
    vectors = Path(library["CLUSTERIDS_LIBRARY"]) / "vectors"
    kept = vectors.with_name("vectors-kept")
    vectors.rename(kept)
    try:
        result = runner(library)("status", "--json")
        assert json.loads(result.stdout)["repaired_at_open"]  # the full open rebuilt it, and says so
    finally:
        import shutil

        shutil.rmtree(vectors, ignore_errors=True)
        kept.rename(vectors)


def test_the_environment_is_read_as_pydantic_settings_reads_it():
    environ = {"CLUSTERIDS_LIBRARY": "/a", "clusterids_eps": "0.4", "CLUSTERIDS_Album_Link": "copy",
               "CLUSTERIDS_NO_SUCH": "1", "OTHER": "x", "CLUSTERIDS_DATABASE_URL": ""}
    assert sources.plain_environ(environ) == _Environ(environ)()


def test_the_short_operations_are_declared_as_it_says():
    for name, reads_only in quick.OPERATIONS.items():
        assert operations.get(name).flags.reads_only == reads_only
    assert quick.MAX_NAME == operations.MAX_NAME


def test_through_the_daemon_the_plain_json_answers_what_the_typed_result_answers(daemon):  # noqa: F811
    for args in READS:
        for as_json in ([], ["--json"]):
            short, full = both_ways(daemon, args + as_json)
            if args[0] == "status":  # the daemon's last event and queue move between two calls
                short, full = (_steady(short, as_json), _steady(full, as_json))
            assert (args, short) == (args, full)


def _steady(answer: tuple[int, str], as_json: list[str]) -> tuple[int, object]:
    """A status answer without the daemon's own state (its last event, its queue)."""
    code, text = answer
    if as_json:
        data = json.loads(text)
        data.pop("daemon", None)
        return code, data
    return code, text.split("daemon:")[0]


def test_status_takes_the_count_from_the_seal_while_the_index_is_as_sealed(library, monkeypatch):
    """The vector index's seal (store/seal.py), written at its clean close, answers status's
    count without opening the engine; a file changed since sends status to the engine."""
    from clusterids.store import quick as store_quick
    from clusterids.store import seal

    vectors = Path(library["CLUSTERIDS_LIBRARY"]) / "vectors"
    faces = json.loads(runner(library)("status", "--json").stdout)["faces"]
    assert seal.sealed_count(vectors) == faces
    opened: list[Path] = []
    monkeypatch.setattr(store_quick, "vector_count", lambda folder: opened.append(folder) or faces)
    assert json.loads(runner(library)("status", "--json").stdout)["vectors"] == faces
    assert opened == []
    config = vectors / "edge_config.json"
    config.write_bytes(config.read_bytes())  # the same bytes, written again: not as sealed
    assert seal.sealed_count(vectors) is None
    assert json.loads(runner(library)("status", "--json").stdout)["vectors"] == faces
    assert opened == [vectors]


def test_opening_the_index_removes_its_seal(tmp_path):
    from clusterids.store import seal
    from clusterids.store.vectors import EdgeIndex

    index = EdgeIndex(tmp_path / "vectors", DIM)
    index.upsert([1, 2], np.stack([unit(np.ones(DIM)), unit(np.arange(DIM, dtype=float))]).astype(np.float32),
                 [None, 3], [10, 11])
    index.close()
    assert seal.sealed_count(tmp_path / "vectors") == 2
    again = EdgeIndex(tmp_path / "vectors", DIM)
    assert not seal.seal_path(tmp_path / "vectors").exists()  # a crash now leaves no seal to trust
    again.delete([1])
    again.close()
    assert seal.sealed_count(tmp_path / "vectors") == 1


@pytest.mark.parametrize("args", [["--set", "eps=5", "status"], ["--set", "workers=0", "people"],
                                  ["--set", "min_samples=abc", "faces"]], ids=" ".join)
def test_a_wrong_value_typed_with_a_read_is_refused_as_every_command_refuses_it(library, args):
    (code, said), full = both_ways(library, args)
    assert (code, said) == full
    assert code == 1 and "setting" in said
