"""Each pattern page's generated wiring diagram is what `localcloud diagram` draws for its stack.

A page names its stack on a line `Stack: \\`Name\\``; its section "Wiring (generated)" holds the
output of `localcloud diagram Name` in a mermaid block. The session's synthesized app is the
reference, so a change to the infra that changes the wiring fails here until the page follows.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from localcloud.core.assembly import load_assembly
from localcloud.diagram import render
from tests.synth import CloudAssembly

pytestmark = pytest.mark.infra

PATTERN_PAGES = sorted((Path(__file__).resolve().parents[2] / "docs" / "patterns").glob("*.md"))
SECTION = "## Wiring (generated)"


def _stack_of(page: Path) -> str | None:
    found = re.search(r"^Stack: `([A-Za-z0-9-]+)`", page.read_text(), re.MULTILINE)
    return found.group(1) if found else None


def _generated_block(text: str) -> str | None:
    """The first mermaid block of the page's generated section, or None if it has none."""
    start = text.find(f"\n{SECTION}\n")
    if start < 0:
        return None
    section = text[start + len(SECTION) + 2 :]
    next_heading = re.search(r"^## ", section, re.MULTILINE)
    if next_heading:
        section = section[: next_heading.start()]
    block = re.search(r"^```mermaid\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    return block.group(1) if block else None


def test_every_pattern_page_names_its_stack():
    assert PATTERN_PAGES
    assert [page.name for page in PATTERN_PAGES if _stack_of(page) is None] == []


@pytest.mark.parametrize("page", PATTERN_PAGES, ids=lambda page: page.stem)
def test_generated_wiring_section_matches_the_stack(page: Path, dev_assembly: CloudAssembly):
    stack_name = _stack_of(page)
    stacks = load_assembly(dev_assembly.outdir)
    if stack_name not in stacks:
        pytest.skip(f"{page.name}: stack {stack_name} is not in the app")
    expected = render(stacks[stack_name])
    regenerate = (
        f"regenerate with `npx cdk synth --quiet && localcloud diagram {stack_name}` and put "
        f"its output in the ```mermaid block of {page.name}'s section {SECTION!r}"
    )

    written = _generated_block(page.read_text())

    assert written is not None, f"{page.name} has no {SECTION!r} section: {regenerate}"
    if written != expected:
        diff = "".join(
            difflib.unified_diff(
                written.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                fromfile=f"{page.name} ({SECTION})",
                tofile=f"localcloud diagram {stack_name}",
            )
        )
        pytest.fail(f"{page.name} shows an out-of-date wiring diagram; {regenerate}\n{diff}")
