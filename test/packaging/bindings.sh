#!/usr/bin/env bash
# Checks the jsii bindings as far as this machine can (no PyPI, no Maven Central):
# generates the Python and Java sources, builds and checks the Python wheel and sdist with
# Debian's python3-build and twine, byte-compiles the Python sources, and parse-checks
# every Java source with javac. Runtime use of either binding is not checked here.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=.tmp/bindings
rm -rf "$OUT"
npx jsii-pacmak --code-only --target python --target java -o "$OUT"

echo "bindings: python"
PY=/usr/bin/python3   # Debian's python, which has python3-build; not a pyenv one earlier on PATH
( cd "$OUT/python"
  # --no-isolation: no PyPI here; Debian's setuptools builds the pure-Python package.
  "$PY" -m build --no-isolation --skip-dependency-check --wheel --sdist . >/dev/null
  twine check --strict dist/*
  "$PY" -m compileall -q src
  ls dist )

echo "bindings: java"
JAVA_SOURCES=$(find "$OUT/java/src" -name '*.java')
[ -n "$JAVA_SOURCES" ] || { echo "no Java sources generated" >&2; exit 1; }
# Parse only: compiling needs the jsii runtime and aws-cdk-lib jars from Maven Central.
javac -proc:none -XDshould-stop.at=PARSE -XDshould-stop.ifNoError=PARSE -d "$OUT/java-classes" $JAVA_SOURCES
echo "bindings: $(echo "$JAVA_SOURCES" | wc -l) Java sources parse"
