"""The commands the docs give work on the AWS CLI a user is likely to have: v1 (what
`pip install awscli` gives) as well as v2."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
DOCS = [PROJECT / "README.md", *sorted((PROJECT / "docs").rglob("*.md"))]
#: AWS CLI v2 only: v1 has no such option and fails on it.
V2_ONLY_OPTIONS = ("--cli-binary-format",)


def _shell_blocks(path: Path) -> list[str]:
    return re.findall(r"```(?:bash|sh|shell)\n(.*?)```", path.read_text(), flags=re.DOTALL)


def test_no_documented_command_needs_aws_cli_v2():
    found = [
        (path.name, option)
        for path in DOCS
        for block in _shell_blocks(path)
        for option in V2_ONLY_OPTIONS
        if option in block
    ]
    assert found == []


def test_documented_lambda_payloads_are_read_as_bytes():
    # `file://` payloads are base64 to v2 unless told otherwise, raw to v1; `fileb://` is raw
    # to both.
    found = [
        (path.name, line.strip())
        for path in DOCS
        for block in _shell_blocks(path)
        for line in block.splitlines()
        if "--payload file://" in line
    ]
    assert found == []
