#!/usr/bin/env bash
# The Python user's path: installs the wheel that package:python left in dist/python into a
# virtual environment with aws-cdk-lib and constructs from PyPI, runs examples/python-app as
# `cdk synth` would, checks that its two templates (Typical, Tuned) equal the TypeScript app's,
# and that bad props raise the TypeScript message (test_python_app.py). Rebuilds the TypeScript
# reference first if it is stale (reference.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/.tmp/polyglot"
VERSION=$(node -p "require('$ROOT/package.json').version")
WHEEL="$ROOT/dist/python/cdk_fast_autoscaler-$VERSION-py3-none-any.whl"
[ -f "$WHEEL" ] || { echo "python-app: no $WHEEL: run npx projen package:python first" >&2; exit 1; }
[ "$WHEEL" -nt "$ROOT/.jsii" ] \
  || { echo "python-app: $WHEEL is older than .jsii (the last compile): run npx projen package:python" >&2; exit 1; }
bash "$ROOT/test/packaging/reference.sh"

VENV=$(bash "$ROOT/test/packaging/python-venv.sh")
# The same version number is rebuilt again and again: always this build's wheel.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"
# Its own dependencies (jsii, publication, typeguard, aws-cdk-lib, constructs) are all met.
"$VENV/bin/python" -m pip check --disable-pip-version-check

rm -rf "$OUT/python.out"
( cd "$ROOT/examples/python-app" && CDK_OUTDIR="$OUT/python.out" "$VENV/bin/python" app.py )
node "$ROOT/test/packaging/compare-templates.js" "$OUT/typescript.template.json" "$OUT/python.out/Typical.template.json" "python-app Typical"
node "$ROOT/test/packaging/compare-templates.js" "$OUT/typescript-tuned.template.json" "$OUT/python.out/Tuned.template.json" "python-app Tuned"
FAST_AUTOSCALER_BAD_PROPS_MESSAGE="$OUT/bad-props.txt" "$VENV/bin/python" "$ROOT/test/packaging/test_python_app.py" -v
