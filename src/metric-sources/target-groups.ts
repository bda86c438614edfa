import { CfnResource, Stack, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';

/**
 * The target groups of this app that send the container HTTP/2 or gRPC: there the load
 * balancer multiplexes many streams on few connections, so a connection count says little.
 */
export function multiplexedTargetGroups(service: ecs.BaseService, containerName: string): Array<{ path: string; protocol: string }> {
  const stack = Stack.of(service);
  const cfnService = service.node.defaultChild as ecs.CfnService;
  const attached = (stack.resolve(cfnService.loadBalancers) as ecs.CfnService.LoadBalancerProperty[] | undefined ?? [])
    .filter(lb => lb.containerName === containerName)
    .map(lb => JSON.stringify(lb.targetGroupArn));
  if (attached.length === 0) return [];
  return service.node.root.node.findAll()
    .filter((c): c is elbv2.CfnTargetGroup => CfnResource.isCfnResource(c) && c.cfnResourceType === elbv2.CfnTargetGroup.CFN_RESOURCE_TYPE_NAME)
    .filter(tg => attached.includes(JSON.stringify(stack.resolve(tg.ref))))
    .flatMap(tg => {
      const version: unknown = Stack.of(tg).resolve(tg.protocolVersion);
      return typeof version === 'string' && !Token.isUnresolved(version) && ['HTTP2', 'GRPC'].includes(version)
        ? [{ path: tg.node.path, protocol: version === 'GRPC' ? 'gRPC' : 'HTTP/2' }]
        : [];
    });
}
