"""Every pytest file of tests/integration that holds tests is one of meson's tests.

test_stub_resources.py was written, passed by hand, and then never ran in CI for a whole
session because it was missing from meson.build's list. A file counts when it defines a
test function at module level; helper modules (simhost.py, test_dbus_helpers.py) do not.
"""
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent


def listed_files():
    text = (HERE / "meson.build").read_text()
    return set(re.findall(r"'(test_[a-z0-9_]+\.py)'", text))


def files_with_tests():
    found = set()
    for path in HERE.glob("test_*.py"):
        if re.search(r"^def test_", path.read_text(), re.MULTILINE):
            found.add(path.name)
    return found


def test_every_file_with_tests_is_listed_in_meson_build():
    missing = sorted(files_with_tests() - listed_files())
    assert not missing, (
        f"{HERE / 'meson.build'}: these files hold tests but are not in integration_tests, "
        f"so no test run executes them: {', '.join(missing)}")


def test_every_listed_file_exists():
    absent = sorted(name for name in listed_files() if not (HERE / name).exists())
    assert not absent, f"{HERE / 'meson.build'} lists files that do not exist: {', '.join(absent)}"
