"""Regenerate docs/request_response/openapi.json from the request-response app."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "request_response" / "openapi.json"


def main() -> int:
    # `functions/` is the Lambda asset root, where handler code imports from.
    sys.path.insert(0, str(ROOT / "functions"))
    from request_response.api import openapi_document

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
