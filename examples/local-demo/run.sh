#!/usr/bin/env bash
# The local demo in one line on a fresh machine: installs what it needs (nginx-light,
# Node.js 22, npm packages), builds the controller bundle, and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/setup
npx projen bundle >/dev/null
exec npx ts-node -P tsconfig.dev.json examples/local-demo/main.ts
