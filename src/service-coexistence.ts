import { Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';

/**
 * What else in the app acts on the service in ways that silently break the autoscaler:
 * read once the app is built (from a validation), for synthesis warnings.
 */

/**
 * The Application Auto Scaling targets anywhere in the app that set the service's desired
 * count: `service.autoScaleTaskCount()` or a `CfnScalableTarget` naming the service.
 */
export function applicationAutoScalingTargets(service: ecs.BaseService): appscaling.CfnScalableTarget[] {
  const stack = Stack.of(service);
  const serviceName = JSON.stringify(stack.resolve(service.serviceName));
  return service.node.root.node.findAll()
    .filter((c): c is appscaling.CfnScalableTarget => c instanceof appscaling.CfnScalableTarget)
    .filter(t => t.scalableDimension === 'ecs:service:DesiredCount')
    // The resource id is `service/<cluster>/<service>`: it names this service if it holds its name.
    .filter(t => JSON.stringify(stack.resolve(t.resourceId)).includes(serviceName.replace(/^"|"$/g, '')));
}

/**
 * The service's security groups that did not get the ingress rule letting the controller
 * reach the status port. CDK adds that rule as a child of each group; an imported group that
 * is immutable (`mutable: false`) silently drops it.
 */
export function securityGroupsWithoutRule(service: ecs.BaseService, controller: ec2.ISecurityGroup, statusPort: number): ec2.ISecurityGroup[] {
  const stack = Stack.of(service);
  const id = (value: unknown) => JSON.stringify(stack.resolve(value));
  const source = id(controller.securityGroupId);
  const rules = (sg: ec2.ISecurityGroup) => [...sg.node.findAll(), ...controller.node.findAll()]
    .filter((c): c is ec2.CfnSecurityGroupIngress => c instanceof ec2.CfnSecurityGroupIngress)
    // A rule between groups of different stacks may live under the controller's group.
    .filter(r => id(r.groupId) === id(sg.securityGroupId) && id(r.sourceSecurityGroupId) === source);
  const groups = service.connections.securityGroups;
  const closed = groups.filter(sg => !rules(sg).some(r => (r.fromPort ?? -1) <= statusPort && statusPort <= (r.toPort ?? -1)));
  // Security group rules add up: one group of the task that lets the controller in is enough.
  return closed.length === groups.length ? closed : [];
}
