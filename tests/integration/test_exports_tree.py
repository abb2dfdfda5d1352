"""The exports tree stubdomd makes at start for fs-backend (issue 6, the stub-domain
README's "To run"), in a temporary root on the simulated host: made from nothing,
left alone when right, and a symlink planted inside it refused, naming the path."""

import os

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import Stubdomd

from helpers.support import (RUN_FINE, call, helper, no_zombie, processes_running, prop,
                             settled_fd_count, fd_count, starts, wait_state)


def settings_for(tmp_path, starts_file):
    return {
        "exports_dir": str(tmp_path / "exports"),
        "keymaps_dir": str(tmp_path / "keymaps"),
        "xen_lib_dir": str(tmp_path / "xenlib"),
        "helpers": [helper("fs-backend", RUN_FINE, starts_file, serves_exports=True)],
    }


def test_the_tree_is_made_from_nothing_before_fs_backend_starts(sim_host, tmp_path):
    starts_file = tmp_path / "starts"
    (tmp_path / "keymaps").mkdir()
    (tmp_path / "xenlib").mkdir()
    with Stubdomd(sim_host, settings=settings_for(tmp_path, starts_file)) as d:
        exports = tmp_path / "exports"
        assert os.readlink(exports / "usr/share/xen/qemu/keymaps") == str(tmp_path / "keymaps")
        assert os.readlink(exports / "var/lib/xen") == str(tmp_path / "xenlib")
        for directory in ("usr", "usr/share", "usr/share/xen", "usr/share/xen/qemu", "var",
                          "var/lib"):
            assert (exports / directory).is_dir() and not (exports / directory).is_symlink()
        assert f"exports tree: created {exports}/var/lib/xen" in d.log()
        wait_state(d, "fs-backend", "running")
        wait_for(lambda: len(starts(starts_file)) == 1, what="fs-backend to run")
    assert processes_running(str(starts_file)) == []


def test_a_tree_that_is_right_is_left_alone(sim_host, tmp_path):
    starts_file = tmp_path / "starts"
    exports = tmp_path / "exports"
    (exports / "usr/share/xen/qemu").mkdir(parents=True)
    (exports / "var/lib").mkdir(parents=True)
    os.symlink(tmp_path / "keymaps", exports / "usr/share/xen/qemu/keymaps")
    os.symlink(tmp_path / "xenlib", exports / "var/lib/xen")
    before = {p: os.lstat(p) for p in exports.rglob("*")}
    with Stubdomd(sim_host, settings=settings_for(tmp_path, starts_file)) as d:
        wait_state(d, "fs-backend", "running")
        after = {p: os.lstat(p) for p in exports.rglob("*")}
        assert after.keys() == before.keys()
        assert all(after[p].st_ino == before[p].st_ino and
                   after[p].st_mtime_ns == before[p].st_mtime_ns for p in before)
        assert "exports tree: created" not in d.log()
        # Targets that do not exist yet are worth a warning, not a refusal.
        assert f"exports tree: {exports}/var/lib/xen points to {tmp_path}/xenlib, which does " \
            "not exist (yet)" in d.log()


def test_a_wrong_link_is_reported_and_left_alone(sim_host, tmp_path):
    starts_file = tmp_path / "starts"
    exports = tmp_path / "exports"
    (exports / "var/lib").mkdir(parents=True)
    os.symlink("/srv/elsewhere", exports / "var/lib/xen")
    with Stubdomd(sim_host, settings=settings_for(tmp_path, starts_file)) as d:
        wait_state(d, "fs-backend", "failed")
        problem = f"{exports}/var/lib/xen points to /srv/elsewhere, not to {tmp_path}/xenlib; " \
            "left alone"
        assert prop(d, "fs-backend", "LastExit") == f"not started: exports tree: {problem}"
        assert f"exports tree: {problem}" in d.log()
        assert os.readlink(exports / "var/lib/xen") == "/srv/elsewhere"
        assert starts(starts_file) == []


def test_a_symlink_planted_in_the_tree_is_refused_naming_the_path(sim_host, tmp_path):
    starts_file = tmp_path / "starts"
    exports = tmp_path / "exports"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (exports / "usr").mkdir(parents=True)
    os.symlink(elsewhere, exports / "usr/share")
    with Stubdomd(sim_host, settings=settings_for(tmp_path, starts_file)) as d:
        baseline = fd_count(d)
        wait_state(d, "fs-backend", "failed")
        refusal = (f"refusing {exports}/usr/share: it is a symbolic link (to {elsewhere}), not "
                   "a directory; nothing is followed through links inside the exports tree, "
                   "remove it")
        assert refusal in prop(d, "fs-backend", "LastExit")
        assert f"exports tree: {refusal}" in d.log()
        assert list(elsewhere.iterdir()) == []  # nothing made through the plant
        assert starts(starts_file) == []

        # Once the administrator removes the plant, Restart makes the tree and starts it.
        (exports / "usr/share").unlink()
        assert call(d, "fs-backend", "Restart").returncode == 0
        assert prop(d, "fs-backend", "State") == "running"
        assert os.readlink(exports / "usr/share/xen/qemu/keymaps") == str(tmp_path / "keymaps")
        wait_for(lambda: len(starts(starts_file)) == 1, what="fs-backend to run")
        assert call(d, "fs-backend", "Stop").returncode == 0
        no_zombie(d)
        assert settled_fd_count(d, baseline) == baseline
    assert processes_running(str(starts_file)) == []
