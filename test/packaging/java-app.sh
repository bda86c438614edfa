#!/usr/bin/env bash
# The Java user's path: builds examples/java-app with Maven against the artifact that
# package:java left in dist/java and aws-cdk-lib from Maven Central, runs its JUnit test (bad
# props raise the TypeScript message), runs the app, and checks that its template equals the
# TypeScript typical app's. Needs test/packaging/typical-app.ts's output (task test:reference).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/.tmp/polyglot"
VERSION=$(node -p "require('$ROOT/package.json').version")
[ -f "$ROOT/dist/java/io/github/cdk-fast-autoscaler/cdk-fast-autoscaler/$VERSION/cdk-fast-autoscaler-$VERSION.jar" ] \
  || { echo "java-app: no artifact $VERSION in dist/java: run package:java first" >&2; exit 1; }
[ -f "$OUT/typescript.template.json" ] || { echo "java-app: no TypeScript reference: run test:reference first" >&2; exit 1; }

# Maven caches what it resolved in its local repository (~/.m2, shared with every other Maven
# build, like pip's cache); our own artifact is dropped from it so that this build's is used.
M2_REPO="${MAVEN_LOCAL_REPOSITORY:-$HOME/.m2/repository}"
rm -rf "$M2_REPO/io/github/cdk-fast-autoscaler"

rm -rf "$OUT/java.out"
cd "$ROOT/examples/java-app"
# test: the JUnit test; exec:java: the app, as `cdk synth` runs it, writing to CDK_OUTDIR.
CDK_OUTDIR="$OUT/java.out" mvn -B -ntp -Dmaven.repo.local="$M2_REPO" \
  -Dfast-autoscaler.version="$VERSION" -DbadPropsMessageFile="$OUT/bad-props.txt" \
  test exec:java
rm -rf target
node "$ROOT/test/packaging/compare-templates.js" "$OUT/typescript.template.json" "$OUT/java.out/Typical.template.json" java-app
