#!/usr/bin/env bash
# Makes sure the TypeScript reference that the Python and Java apps are compared with (what
# test/packaging/typical-app.ts writes to .tmp/polyglot: the Typical and Tuned templates and the
# bad-props message) exists and is newer than everything it is made from: the library's source,
# the controller bundle, the stack code, the locked dependencies. Rebuilds it otherwise, as the
# task test:reference does, so that test:python and test:java run on their own never compare
# with a stale reference.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/.tmp/polyglot"
inputs=("$ROOT/src" "$ROOT/assets" "$ROOT/test/support/typical-stack.ts" "$ROOT/test/packaging/typical-app.ts" "$ROOT/package-lock.json")
stale=""
for output in "$OUT/typescript.template.json" "$OUT/typescript-tuned.template.json" "$OUT/bad-props.txt"; do
  if [ ! -f "$output" ]; then stale="no $output"; break; fi
  newer=$(find "${inputs[@]}" -type f -newer "$output" -print -quit)
  if [ -n "$newer" ]; then stale="$newer is newer than $output"; break; fi
done
if [ -n "$stale" ]; then
  echo "reference: rebuilding the TypeScript reference ($stale)" >&2
  mkdir -p "$OUT"
  cd "$ROOT"
  npx ts-node -P tsconfig.dev.json test/packaging/typical-app.ts "$OUT/typescript.template.json" "$OUT/bad-props.txt" >&2
fi
