import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { QueueWorkerStack } from '../../examples/queue-worker/queue-worker-stack';
import { renderedControllerConfig } from '../support/controller-config-fixture';

describe('examples/queue-worker', () => {
  const app = new App();
  const stack = new QueueWorkerStack(app, 'Worker');
  const template = Template.fromStack(stack);

  test('a worker with no load balancer, from zero, on its queue with a dead-letter queue', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    template.resourceCountIs('AWS::SQS::Queue', 3); // the jobs, their dead letters, the schedule's dead letters
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { maxReceiveCount: 5 } });
    expect(renderedControllerConfig(template)).toMatchObject({ minTasks: 0, scaleInEnabled: true, source: { type: 'sqsQueue' } });
    const [td] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as any[];
    expect(td.Properties.ContainerDefinitions.map((c: any) => c.Name)).toEqual(['worker']);
  });

  test('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    app.synth();
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.map(v => `${v.ruleName} at ${v.violatingResources.map(r => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});
