#!/usr/bin/env bash
# Installs the packed npm tarball into a fresh throwaway CDK app that has only the peer
# dependencies, synthesizes a stack wrapping a Fargate service, and asserts on the template.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TARBALL=$(ls "$ROOT"/dist/js/cdk-fast-autoscaler@*.jsii.tgz | head -1)
[ -f "$TARBALL" ] || { echo "no tarball in dist/js: run package:js first" >&2; exit 1; }
PEER_CDK=$(node -p "require('$ROOT/package.json').peerDependencies['aws-cdk-lib'].replace(/^\^/, '')")
APP="$ROOT/.tmp/installed-app"
rm -rf "$APP" && mkdir -p "$APP" && cd "$APP"
npm init -y >/dev/null
npm install --no-audit --no-fund --prefer-offline "aws-cdk-lib@$PEER_CDK" "constructs@^10" "$TARBALL" >/dev/null
cp "$ROOT/test/packaging/installed-app.js" app.js
node app.js
