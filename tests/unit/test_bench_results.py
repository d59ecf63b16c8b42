"""bench/RESULTS.md: a bench replaces its own section and keeps every other one."""
from __future__ import annotations

import re

import pytest

from bench import results

pytestmark = pytest.mark.unit

UNIT_BODY = "## Unit suite\n\n| a | b |\n|---|---|\n| 1 | 2 |"
CYCLE_BODY = "## Sandbox cycle\n\nMeasured on vm, 2 cores\n\n| x |\n|---|\n| 3 |"


def _three_sections() -> str:
    text = ""
    for name, body in (("unit_suite", UNIT_BODY), ("sandbox_cycle", CYCLE_BODY),
                       ("health_bench", "## Health\n\n| h |\n|---|\n| 9 |")):
        text = results.replace_section(text, name, body)
    return text


def _section(text: str, name: str) -> str:
    begin, end = results.markers(name)
    return text[text.index(begin):text.index(end) + len(end)]


def test_a_new_file_starts_with_the_header_and_the_section():
    text = results.replace_section("", "unit_suite", UNIT_BODY)
    assert text.startswith(results.HEADER)
    assert _section(text, "unit_suite") == "\n".join(
        [results.markers("unit_suite")[0], UNIT_BODY, results.markers("unit_suite")[1]])


def test_replacing_one_section_keeps_the_others_byte_for_byte():
    before = _three_sections()
    after = results.replace_section(before, "sandbox_cycle", "## Sandbox cycle\n\n| x |\n|---|\n| 4 |")
    assert "| 4 |" in _section(after, "sandbox_cycle") and "| 3 |" not in after
    for other in ("unit_suite", "health_bench"):
        assert _section(after, other) == _section(before, other)
    assert after.index(results.markers("unit_suite")[0]) < after.index(
        results.markers("sandbox_cycle")[0]) < after.index(results.markers("health_bench")[0])
    assert after.startswith(results.HEADER)


def test_text_outside_the_markers_is_kept():
    before = _three_sections().replace(results.markers("sandbox_cycle")[0],
                                       "A note a person wrote.\n\n" + results.markers("sandbox_cycle")[0])
    after = results.replace_section(before, "sandbox_cycle", CYCLE_BODY + "\n| 5 |")
    assert "A note a person wrote.\n\n" + results.markers("sandbox_cycle")[0] in after


@pytest.mark.parametrize("name", ["unit_suite", "sandbox_cycle", "health_bench", "new_bench"])
def test_writing_the_same_table_twice_changes_nothing(name):
    once = results.replace_section(_three_sections(), name, "## Table\n\n| same |\n|---|\n")
    assert results.replace_section(once, name, "## Table\n\n| same |\n|---|\n") == once


def test_record_writes_the_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(_three_sections())
    path.chmod(0o644)
    results.record("unit_suite", "Unit suite", "| new |\n|---|", path)
    text = path.read_text()
    assert "## Unit suite\n\n| new |\n|---|\n" + results.markers("unit_suite")[1] in text
    assert _section(text, "health_bench") == _section(_three_sections(), "health_bench")
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("damage", ["drop end", "twice begin", "end before begin"])
def test_broken_markers_are_refused_with_what_to_do(tmp_path, damage):
    begin, end = results.markers("sandbox_cycle")
    text = _three_sections()
    if damage == "drop end":
        text = text.replace(end, "")
    elif damage == "twice begin":
        text += begin + "\n"
    else:
        text = text.replace(begin, "@@").replace(end, begin).replace("@@", end)
    path = tmp_path / "RESULTS.md"
    path.write_text(text)
    with pytest.raises(results.ResultsFileError, match=f"{re.escape(str(path))}: .*sandbox_cycle.*delete the whole section"):
        results.record("sandbox_cycle", "Sandbox cycle", "| x |", path)
    assert path.read_text() == text
