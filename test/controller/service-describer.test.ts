import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { ServiceDescriber } from '../../src/controller/service-describer';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
beforeEach(() => ecsMock.reset());

/** ECS's answer for the services asked: each found as ACTIVE, unless its name says missing. */
function answer(input: { services?: string[] }) {
  const asked = input.services ?? [];
  return {
    services: asked.filter(s => !s.startsWith('missing')).map(s => ({ serviceName: s, status: 'ACTIVE', desiredCount: s.length })),
    failures: asked.filter(s => s.startsWith('missing')).map(s => ({ arn: `arn:aws:ecs:eu-west-1:123456789012:service/c/${s}`, reason: 'MISSING' })),
  };
}

test('the services of a loop asked in one turn are described 10 of a cluster a call, each getting its own answer', async () => {
  ecsMock.on(DescribeServicesCommand).callsFake(answer);
  const describer = new ServiceDescriber(ecs);
  const names = Array.from({ length: 12 }, (_, i) => `web-${i}`);
  const answers = await Promise.all([
    ...names.map(n => describer.describe('a', n, { abortAfterMs: 1000 })),
    describer.describe('b', 'api', {}),
    describer.describe('a', 'missing-one', {}),
  ]);
  const calls = ecsMock.commandCalls(DescribeServicesCommand).map(c => c.args[0].input);
  expect(calls.map(c => [c.cluster, c.services!.length])).toEqual([['a', 10], ['a', 3], ['b', 1]]);
  expect(describer.calls).toBe(3);
  names.forEach((n, i) => expect(answers[i]).toEqual({ services: [expect.objectContaining({ serviceName: n })], failures: [] }));
  expect(answers[12].services?.[0].serviceName).toBe('api');
  expect(answers[13]).toEqual({ services: [], failures: [expect.objectContaining({ reason: 'MISSING' })] });
});

test('a batched call that fails is made again service by service: one service\'s denial stays its own', async () => {
  ecsMock.on(DescribeServicesCommand).callsFake((input: { services?: string[] }) => {
    if (input.services!.includes('denied')) throw Object.assign(new Error('not authorized on denied'), { name: 'AccessDeniedException' });
    return answer(input);
  });
  const describer = new ServiceDescriber(ecs);
  const [ok1, denied, ok2] = await Promise.allSettled(['web', 'denied', 'api'].map(n => describer.describe('c', n, {})));
  expect(ok1).toMatchObject({ status: 'fulfilled', value: { services: [{ serviceName: 'web' }] } });
  expect(ok2).toMatchObject({ status: 'fulfilled', value: { services: [{ serviceName: 'api' }] } });
  expect(denied).toMatchObject({ status: 'rejected', reason: { name: 'AccessDeniedException' } });
  // The batch, then one call each.
  expect(ecsMock.commandCalls(DescribeServicesCommand).map(c => c.args[0].input.services)).toEqual([['web', 'denied', 'api'], ['web'], ['denied'], ['api']]);
});
