#!/usr/bin/env bash
# Runs cfn-lint (AWS's CloudFormation linter, from PyPI) on every template the build
# synthesized: the TypeScript reference app's two stacks (Typical, Tuned), the same two from the
# Python and Java apps, examples/php-demo and the app that installed the npm tarball. Checked
# against eu-west-1's resource specification: the stacks that name a region name that one (the
# other two are environment-agnostic). Any error fails the build; so does any warning that is
# not one of the two below, each ignored for its reason:
#   W3005 (DependsOn already enforced by a Ref/GetAtt): aws-cdk-lib writes both on purpose, on
#         a Lambda function (its role), a state machine (its role) and an ECS service (its
#         target group): the explicit DependsOn also orders the role's policy or the listener
#         rule. All 23 findings on the 8 templates are of those three kinds; not ours to change.
#   W3010 (hardcoded availability zones): an environment-specific CDK stack always names its
#         AZs; offline they are CDK's placeholders ('dummy1a') for the lookup a real synth does.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TMP="$ROOT/.tmp"
templates=()
for expected in polyglot/typescript.template.json polyglot/typescript-tuned.template.json \
                polyglot/python.out/Typical.template.json polyglot/python.out/Tuned.template.json \
                polyglot/java.out/Typical.template.json polyglot/java.out/Tuned.template.json \
                php-demo.out/FastAutoscalerPhpDemo.template.json installed-app/cdk.out/UserStack.template.json; do
  [ -f "$TMP/$expected" ] || { echo "cfn-lint: $TMP/$expected is missing: run the tasks that synthesize it first" >&2; exit 1; }
  templates+=("$TMP/$expected")
done
VENV=$(bash "$ROOT/test/packaging/python-venv.sh")
"$VENV/bin/cfn-lint" --version
"$VENV/bin/cfn-lint" --regions eu-west-1 --ignore-checks W3005 W3010 -- "${templates[@]}"
echo "cfn-lint: ${#templates[@]} templates, no errors, no unexplained warnings"
