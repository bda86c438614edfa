import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { LoopConfig } from '../../src/controller/loop-config';
import { REGISTRY_TTL_MS, ServiceRegistry } from '../../src/controller/service-registry';
import { controllerConfig } from '../support/controller-config-fixture';

const ssmMock = mockClient(SSMClient);
const ssm = new SSMClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const LOOP: LoopConfig = { loop: 'l', table: 't', intervalSeconds: 3, runSeconds: 230, loopMetrics: true, registryPath: '/fast-autoscaler/l' };
const entry = (service: string) => {
  const { table: _t, intervalSeconds: _i, runSeconds: _r, ...e } = controllerConfig({ service });
  return JSON.stringify(e);
};
beforeEach(() => ssmMock.reset());

test('reads every page; a malformed entry is that entry\'s error alone', async () => {
  ssmMock.on(GetParametersByPathCommand)
    .resolvesOnce({ Parameters: [{ Name: '/fast-autoscaler/l/a', Value: entry('a') }, { Name: '/fast-autoscaler/l/bad', Value: '{"minTasks":' }], NextToken: 'n' })
    .resolvesOnce({ Parameters: [{ Name: '/fast-autoscaler/l/b', Value: entry('b') }, { Name: '/fast-autoscaler/l/wrong', Value: '{"minTasks": -1}' }] });
  const { services } = await new ServiceRegistry(LOOP, ssm).services();
  expect(services.map(s => ('config' in s ? s.config.service : `${s.name}: ${s.error.split('\n')[0]}`))).toEqual([
    'a', '/fast-autoscaler/l/bad: the parameter is not JSON: Unexpected end of JSON input', 'b', expect.stringMatching(/^\/fast-autoscaler\/l\/wrong: invalid/),
  ]);
  expect(ssmMock.commandCalls(GetParametersByPathCommand).map(c => c.args[0].input.NextToken)).toEqual([undefined, 'n']);
});

test('a cold instance waits for the list; a warm one ticks on the list it has while SSM fails, and tries again later, not every tick', async () => {
  let now = 0;
  const registry = new ServiceRegistry(LOOP, ssm, 1000, () => now);
  ssmMock.on(GetParametersByPathCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
  await expect(registry.services()).rejects.toThrow('Rate exceeded');
  ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [{ Name: '/fast-autoscaler/l/a', Value: entry('a') }] });
  expect((await registry.services()).services).toHaveLength(1);
  ssmMock.on(GetParametersByPathCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
  ssmMock.resetHistory();
  now += REGISTRY_TTL_MS;
  // Served at once from what it has; the refresh runs beside.
  expect((await registry.services()).services).toHaveLength(1);
  await new Promise(resolve => setTimeout(resolve, 10));
  const after = await registry.services();
  expect(after).toMatchObject({ services: [expect.anything()], stale: 'SSM ThrottlingException: Rate exceeded' });
  // The next ticks do not call SSM again until the retry is due.
  now += 1000;
  await registry.services();
  expect(ssmMock.commandCalls(GetParametersByPathCommand)).toHaveLength(1);
});
