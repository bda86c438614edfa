import { Annotations, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { IConstruct } from 'constructs';
import { SourceType } from './controller/controller-config';
import { proxyTargetGroupErrors } from './metric-sources/proxy-sidecar';
import { multiplexedTargetGroups } from './metric-sources/target-groups';

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

/** What the late checks need to know of the autoscaler. */
export interface ServiceUnderAutoscaler {
  readonly service: ecs.BaseService;
  readonly appContainerName: string;
  readonly appPort: number;
  /** Where the controller reads each task; 0 when it reads none (a queue). */
  readonly statusPort: number;
  readonly source: SourceType;
  readonly scalesOnConnections: boolean;
  readonly controllerSecurityGroup: ec2.ISecurityGroup;
}

/**
 * Late checks, once the whole app is built: a fixed desired count, a load balancer that
 * bypasses the proxy, another scaler of the same service are legal, but almost never what the
 * user wants (warnings on `scope`); a target group that speaks TLS, HTTP/2 or gRPC to the proxy
 * can never work (an error, returned).
 */
export function checkServiceInApp(scope: IConstruct, s: ServiceUnderAutoscaler): string[] {
  const { service, appContainerName, appPort, statusPort, source } = s;
  const cfn = service.node.defaultChild as ecs.CfnService;
  if (cfn.desiredCount !== undefined) {
    Annotations.of(scope).addWarningV2('cdk-fast-autoscaler:fixedDesiredCount',
      `The service sets \`desiredCount\` (${cfn.desiredCount}) in the template: every deployment resets what the autoscaler set. Leave \`desiredCount\` undefined on the service.`);
  }
  // The L1 property, resolved, in its camelCase (L1) form.
  const loadBalancers = Stack.of(scope).resolve(cfn.loadBalancers) as ecs.CfnService.LoadBalancerProperty[] | undefined;
  for (const lb of source === 'nginxProxy' ? loadBalancers ?? [] : []) {
    if (lb.containerName === appContainerName) {
      Annotations.of(scope).addWarningV2('cdk-fast-autoscaler:proxyBypassed',
        `A load balancer targets the app container \`${appContainerName}\` on port ${lb.containerPort ?? appPort} directly, bypassing the proxy: the autoscaler does not see that traffic. Use \`loadBalancerTarget\` instead.`);
    }
  }
  if (source === 'taskAgent' && s.scalesOnConnections) {
    for (const tg of multiplexedTargetGroups(service, appContainerName)) {
      Annotations.of(scope).addWarningV2('cdk-fast-autoscaler:multiplexedConnections',
        `The target group ${tg.path} speaks ${tg.protocol} to the app: the load balancer multiplexes many requests on few connections, so ACTIVE_CONNECTIONS says little about the load. Scale on ScalingMetric.CPU_UTILIZATION, or on the app's own in-flight gauge with MetricSource.prometheus().`);
    }
  }
  for (const target of applicationAutoScalingTargets(service)) {
    Annotations.of(scope).addWarningV2('cdk-fast-autoscaler:applicationAutoScaling',
      `Application Auto Scaling also sets this service's desired count (${target.node.path}). Both act on the same number: its scale-in, on its own metric, can undo this autoscaler's scale-out, and the two then flap; its scale-out only arrives later. To let them coexist, keep this autoscaler's \`disableScaleIn\` true (the default) so that Application Auto Scaling owns scale-in, and give its scalable target a MaxCapacity of at least \`maxTasks\`; otherwise remove one of them.`);
  }
  for (const sg of statusPort > 0 ? securityGroupsWithoutRule(service, s.controllerSecurityGroup, statusPort) : []) {
    Annotations.of(scope).addWarningV2('cdk-fast-autoscaler:statusPortClosed',
      `The service's security group ${sg.node.path} takes no new rules (imported with \`mutable: false\`): the controller cannot be let in on the status port ${statusPort}, and every scrape would time out. Import it mutable, or add an ingress rule from \`controllerSecurityGroup\` on TCP ${statusPort} yourself and acknowledge this warning.`);
  }
  return source === 'nginxProxy' ? proxyTargetGroupErrors(service, appPort) : [];
}
