#!/usr/bin/env bash
# Prints the interpreter to build .venv with: Python 3.13 (the Lambda runtime) when this machine
# has it, else python3 >= 3.11 with a warning on stderr. Fails when neither is available.
set -euo pipefail

wanted="$(tr -d '[:space:]' < "$(dirname "$0")/../.python-version")"   # e.g. 3.13

candidates=("python${wanted}")
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)/versions/${wanted}"*/bin; do candidates+=("${dir}/python${wanted}"); done
fi
for candidate in "${candidates[@]}"; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import venv' 2>/dev/null; then
    command -v "$candidate"
    exit 0
  fi
done

if command -v python3 >/dev/null 2>&1 && python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "WARNING: Python ${wanted} (the Lambda runtime) was not found; using $(python3 --version)." \
       "Tests will not run on the runtime's Python." >&2
  command -v python3
  exit 0
fi
echo "ERROR: neither Python ${wanted} nor python3 >= 3.11 was found." >&2
exit 1
