#!/usr/bin/env bash
# Creates (once) the Python virtual environment the packaging tests share, in .tmp/venv:
# aws-cdk-lib and constructs as examples/python-app pins them, and cfn-lint. pip's own cache
# (~/.cache/pip) makes a fresh one quick. Prints the venv's directory on stdout, and nothing
# else there: the callers read it with $(...), so all the rest goes to stderr.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$ROOT/.tmp/venv"
REQUIREMENTS=("$ROOT/examples/python-app/requirements.txt" "$ROOT/test/packaging/requirements-lint.txt")
STAMP="$VENV/.requirements"
WANTED=$(cat "${REQUIREMENTS[@]}")
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANTED" ]; then
  echo "python-venv: creating $VENV" >&2
  rm -rf "$VENV"
  # To stderr: on Debian without python3-venv, its "ensurepip is not available" advice is here.
  python3 -m venv "$VENV" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check $(printf -- '-r %s ' "${REQUIREMENTS[@]}") >&2
  echo "$WANTED" > "$STAMP"
fi
echo "$VENV"
