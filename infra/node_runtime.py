"""The Node.js the CDK app runs on (aws-cdk-lib runs through jsii on Node).

Node 22 and 24 (LTS) are supported. Node 20 still works, but jsii, on importing aws-cdk-lib,
prints a multi-line end-of-life banner that Python relays as raw byte strings; on Node 20 the
app says it once, in one plain line, instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

SUPPORTED_MAJORS = (22, 24)
STILL_WORKING_MAJORS = (20,)
_JSII_END_OF_LIFE_BANNER = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
_JSII_DEPRECATED_BANNER = "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"


def node_major() -> int | None:
    """The major version of the `node` on PATH, or None when there is none."""
    node = shutil.which("node")
    if node is None:
        return None
    version = subprocess.run(  # noqa: S603 - the node on PATH, a fixed argument
        [node, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    try:
        return int(version.removeprefix("v").split(".", 1)[0])
    except ValueError:
        return None


def announce_node_version(major: int | None = None) -> str | None:
    """Before aws_cdk is imported: on a Node that still works but is past its end of life, say
    so in one line on stderr and keep jsii's banner quiet. Returns what was said."""
    major = node_major() if major is None else major
    if major not in STILL_WORKING_MAJORS:
        return None
    os.environ.setdefault(_JSII_END_OF_LIFE_BANNER, str(major))
    os.environ.setdefault(_JSII_DEPRECATED_BANNER, "1")
    message = (
        f"Node {major} is past its end of life; the app still synthesizes on it, but use Node "
        f"{' or '.join(map(str, SUPPORTED_MAJORS))} (LTS)."
    )
    print(message, file=sys.stderr)
    return message
