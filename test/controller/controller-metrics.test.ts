import { clusterNameOf, serviceDimensions } from '../../src/controller/controller-metrics';

test.each([
  ['arn:aws:ecs:eu-west-1:123456789012:cluster/prod', 'prod'],
  ['arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod-cn', 'prod-cn'],
  ['arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/a_b-c', 'a_b-c'],
  ['prod', 'prod'],
])('the cluster %s is named %s in the metrics', (cluster, name) => {
  expect(clusterNameOf(cluster)).toBe(name);
});

test('a service is named by its cluster and its name, nothing else', () => {
  expect(serviceDimensions('prod', 'web')).toEqual({ ClusterName: 'prod', ServiceName: 'web' });
});
