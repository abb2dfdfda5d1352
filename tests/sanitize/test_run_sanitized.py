"""run-sanitized decides whether a test's sanitizer reports fail it. These cases plant
report files the way a sanitized process would (into ASAN_OPTIONS's log_path) and check
the decision, so the one notice it lets pass cannot hide a real report."""
import os
import pathlib
import subprocess

import pytest

RUN_SANITIZED = pathlib.Path(__file__).with_name("run-sanitized")

# LeakSanitizer's line when a thread of the process it scans is killed meanwhile; the
# first number is the scanning (tracer) thread, the second the vanished one.
VANISHED = "==10122==Unable to get registers from thread 10117.\n"
# ASan's warning, once per process, when a library switches stacks with swapcontext
# (gtk-vnc's coroutines in stubdomctl screenshot).
SWAPCONTEXT = ("==18354==WARNING: ASan doesn't fully support makecontext/swapcontext "
               "functions and may produce false positives in some cases!\n")
LEAK = ("==4242==ERROR: LeakSanitizer: detected memory leaks\n"
        "Direct leak of 16 byte(s) in 1 object(s) allocated from:\n")


def run_writing(reports, status=0):
    """Runs a command under run-sanitized that writes each text as one process's report
    and exits with status."""
    script = 'dir=${ASAN_OPTIONS#*log_path=}; dir=${dir%%:*}\n'
    for pid, text in reports.items():
        script += f"printf '%s' {sh_quote(text)} > \"$dir.{pid}\"\n"
    script += f"exit {status}\n"
    return subprocess.run([str(RUN_SANITIZED), "bash", "-c", script],
                          capture_output=True, text=True, env=dict(os.environ), check=False)


def sh_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def test_no_report_keeps_the_tests_status():
    assert run_writing({}, status=0).returncode == 0
    assert run_writing({}, status=3).returncode == 3


def test_a_leak_report_fails_a_passing_test():
    result = run_writing({4242: LEAK})
    assert result.returncode == 1
    assert "detected memory leaks" in result.stderr
    assert "=== sanitizer report report.4242" in result.stderr


# Each notice run-sanitized lets pass, as (the process's pid, its text, what of it is shown).
NOTICES = {"vanished-thread": (10117, VANISHED, "Unable to get registers from thread 10117"),
           "swapcontext": (18354, SWAPCONTEXT, "makecontext/swapcontext")}


@pytest.mark.parametrize("notice", NOTICES)
def test_only_a_notice_is_not_a_finding_but_is_shown(notice):
    pid, text, shown = NOTICES[notice]
    result = run_writing({pid: text})
    assert result.returncode == 0, result.stderr
    assert shown in result.stderr
    assert "the test fails" not in result.stderr


@pytest.mark.parametrize("notice", NOTICES)
def test_a_notice_beside_a_leak_still_fails(notice):
    pid, text, _ = NOTICES[notice]
    result = run_writing({pid: text + LEAK})
    assert result.returncode == 1
    assert "detected memory leaks" in result.stderr


def test_one_real_report_among_notices_fails():
    result = run_writing({10117: VANISHED, 4242: LEAK})
    assert result.returncode == 1
    assert "report.4242" in result.stderr


def test_an_empty_report_file_is_not_a_finding_but_is_shown():
    # What a process SIGKILLed while its leak scan starts leaves (seen with a sanitized
    # program killed between its last line and its exit).
    result = run_writing({555: ""})
    assert result.returncode == 0, result.stderr
    assert "report.555 is empty" in result.stderr


def test_a_report_with_a_blank_line_and_a_finding_fails():
    result = run_writing({4242: "\n" + LEAK})
    assert result.returncode == 1


def test_a_failing_test_with_a_report_keeps_its_own_status():
    assert run_writing({4242: LEAK}, status=5).returncode == 5


def test_a_report_turns_the_skip_code_into_a_failure():
    # 77 would make meson count a test with a report as skipped.
    assert run_writing({4242: LEAK}, status=77).returncode == 1
