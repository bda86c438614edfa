import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PhpDemoStack } from '../../examples/php-demo/php-demo-stack';
import { typicalStack } from '../support/typical-stack';

describe('examples/php-demo', () => {
  const app = new App();
  const stack = new PhpDemoStack(app, 'Demo');
  const template = Template.fromStack(stack);

  test('synthesizes environment-agnostic: no credentials, no lookups', () => {
    expect(stack.resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(app.synth().manifest.missing ?? []).toEqual([]);
  });

  test('an internet-facing ALB targets the proxy sidecar of the PHP service', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    template.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [{ ContainerName: 'fast-autoscaler-proxy', ContainerPort: 8012, TargetGroupArn: { Ref: Match.anyValue() } }],
    });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });

  test('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    app.synth();
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.map(v => `${v.ruleName} at ${v.violatingResources.map(r => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});

test('the library acknowledges only its own resources: a user\'s resources still get findings', () => {
  const { app } = typicalStack();
  // Synthesis runs the late acknowledgments (those naming logical ids), as it does before cdk-nag runs.
  app.synth();
  const report = new AwsSolutionsChecks().validateScope(app);
  const paths = report.violations.flatMap(v => v.violatingResources.map(r => r.constructPath ?? ''));
  expect(paths.length).toBeGreaterThan(0);
  expect(paths.filter(p => p.includes('/Autoscaler/'))).toEqual([]);
});
