#!/usr/bin/env bash
# The Java user's path: builds examples/java-app with Maven against the artifact that
# package:java left in dist/java and aws-cdk-lib from Maven Central, runs its JUnit test (bad
# props raise the TypeScript message), runs the app, and checks that its two templates
# (Typical, Tuned) equal the TypeScript app's. Rebuilds the TypeScript reference first if it is
# stale (reference.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/.tmp/polyglot"
VERSION=$(node -p "require('$ROOT/package.json').version")
JAR="$ROOT/dist/java/io/github/cdk-fast-autoscaler/cdk-fast-autoscaler/$VERSION/cdk-fast-autoscaler-$VERSION.jar"
[ -f "$JAR" ] || { echo "java-app: no artifact $VERSION in dist/java: run npx projen package:java first" >&2; exit 1; }
[ "$JAR" -nt "$ROOT/.jsii" ] \
  || { echo "java-app: $JAR is older than .jsii (the last compile): run npx projen package:java" >&2; exit 1; }
bash "$ROOT/test/packaging/reference.sh"

# A local repository of this project's own (not ~/.m2, which other builds share): Maven caches
# what it resolves there, our artifact too, and the same version number is rebuilt again and
# again, so ours is dropped before each build to resolve this build's from dist/java.
M2_REPO="$ROOT/.tmp/m2"
rm -rf "$M2_REPO/io/github/cdk-fast-autoscaler"

rm -rf "$OUT/java.out"
cd "$ROOT/examples/java-app"
# test: the JUnit test; exec:java: the app, as `cdk synth` runs it, writing to CDK_OUTDIR.
CDK_OUTDIR="$OUT/java.out" mvn -B -ntp -Dmaven.repo.local="$M2_REPO" \
  -Dfast-autoscaler.version="$VERSION" -DbadPropsMessageFile="$OUT/bad-props.txt" \
  test exec:java
rm -rf target
node "$ROOT/test/packaging/compare-templates.js" "$OUT/typescript.template.json" "$OUT/java.out/Typical.template.json" "java-app Typical"
node "$ROOT/test/packaging/compare-templates.js" "$OUT/typescript-tuned.template.json" "$OUT/java.out/Tuned.template.json" "java-app Tuned"
