import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GRPC_PORT, GrpcCpuStack } from '../../examples/grpc-cpu/grpc-cpu-stack';

describe('examples/grpc-cpu', () => {
  const app = new App();
  const stack = new GrpcCpuStack(app, 'GrpcCpu');
  const template = Template.fromStack(stack);

  test('a gRPC target group reaches the app container directly; the agent sits beside it, the proxy nowhere', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { ProtocolVersion: 'GRPC', Port: GRPC_PORT });
    template.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [{ ContainerName: 'grpc', ContainerPort: GRPC_PORT, TargetGroupArn: { Ref: Match.anyValue() } }],
    });
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as any[];
    expect(taskDefinition.Properties.ContainerDefinitions.map((c: any) => c.Name)).toEqual(['grpc', 'fast-autoscaler-agent']);
    // No warning about connections over HTTP/2: it scales on CPU.
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('multiplexes'));
  });

  test('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    app.synth();
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.map(v => `${v.ruleName} at ${v.violatingResources.map(r => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});
