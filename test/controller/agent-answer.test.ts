import { nanos, parseAgentAnswer } from '../../src/controller/read/agent-answer';

/** One container's stats as the task metadata endpoint v4 gives them (the fields read here). */
function containerStats(o: { cpu: number; precpu: number; read: string; preread: string; memory?: number; inactive?: number }) {
  return {
    read: o.read,
    preread: o.preread,
    cpu_stats: { cpu_usage: { total_usage: o.cpu, usage_in_kernelmode: 0, usage_in_usermode: o.cpu }, system_cpu_usage: 1e15, online_cpus: 2 },
    precpu_stats: {
      cpu_usage: { total_usage: o.precpu, usage_in_kernelmode: 0, usage_in_usermode: o.precpu }, system_cpu_usage: 1e15 - 2e9, online_cpus: 2,
    },
    memory_stats: { usage: o.memory ?? 100 * 2 ** 20, limit: 4e9, stats: { total_inactive_file: o.inactive ?? 0 } },
  };
}
const task = (cpu: number, memory: number) => ({ Cluster: 'c', TaskARN: 't', Limits: { CPU: cpu, Memory: memory }, Containers: [] });
const answer = (stats: Record<string, unknown>, limits = task(0.5, 1024)) => JSON.stringify({ stats, task: limits });

describe('the agent answer', () => {
  test('connections', () => {
    expect(parseAgentAnswer('{"connections":42}\n', 'ACTIVE_CONNECTIONS')).toEqual({ ok: true, reading: { connections: 42 } });
    for (const bad of ['{"connections":-1}', '{"connections":1.5}', '{"connections":"4"}', '{}', 'Active connections: 3', '[1]']) {
      expect(parseAgentAnswer(bad, 'ACTIVE_CONNECTIONS').ok).toBe(false);
    }
  });

  test('CPU: each container\'s CPU over the two samples\' times, summed, as a share of the task\'s vCPUs', () => {
    const body = answer({
      // 0.3 s of CPU over 1 s, and 0.1 s over 0.5 s: 0.5 cores of a 0.5-vCPU task is 100 %.
      app: containerStats({ cpu: 5.3e9, precpu: 5.0e9, read: '2026-12-07T10:00:01.000000000Z', preread: '2026-12-07T10:00:00.000000000Z' }),
      agent: containerStats({ cpu: 1.1e9, precpu: 1.0e9, read: '2026-12-07T10:00:01.5Z', preread: '2026-12-07T10:00:01Z' }),
      stopped: null,
    });
    const r = parseAgentAnswer(body, 'CPU_UTILIZATION');
    expect(r.ok && r.reading.cpuPercent).toBeCloseTo(100, 6);
  });

  test('CPU is unknown (not 0) in a container\'s first second, and after a restart', () => {
    const first = containerStats({ cpu: 2e8, precpu: 0, read: '2026-12-07T10:00:01Z', preread: '0001-01-01T00:00:00Z' });
    expect(parseAgentAnswer(answer({ app: first }), 'CPU_UTILIZATION')).toEqual({ ok: true, reading: {} });
    const restarted = containerStats({ cpu: 1e8, precpu: 9e9, read: '2026-12-07T10:00:01Z', preread: '2026-12-07T10:00:00Z' });
    expect(parseAgentAnswer(answer({ app: restarted }), 'CPU_UTILIZATION')).toEqual({ ok: true, reading: {} });
    expect(parseAgentAnswer(answer({ app: null }), 'CPU_UTILIZATION')).toEqual({ ok: true, reading: {} });
    // A container that has used no CPU at all yet, past its first second, is idle: 0.
    const idle = containerStats({ cpu: 0, precpu: 0, read: '2026-12-07T10:00:01Z', preread: '2026-12-07T10:00:00Z' });
    expect(parseAgentAnswer(answer({ app: idle }), 'CPU_UTILIZATION')).toEqual({ ok: true, reading: { cpuPercent: 0 } });
  });

  test('memory: usage less inactive file cache, as a share of the task\'s memory', () => {
    const stats = { app: containerStats({ cpu: 1, precpu: 1, read: '2026-12-07T10:00:01Z', preread: '2026-12-07T10:00:00Z', memory: 600 * 2 ** 20, inactive: 88 * 2 ** 20 }) };
    const r = parseAgentAnswer(answer(stats), 'MEMORY_UTILIZATION');
    expect(r.ok && r.reading.memoryPercent).toBeCloseTo(50, 6);
  });

  test.each([
    ['no task limits', JSON.stringify({ stats: {}, task: {} })],
    ['a zero CPU limit', answer({}, task(0, 512))],
    ['stats that are not a map of objects', JSON.stringify({ stats: { a: 3 }, task: task(1, 512) })],
    ['a container without cpu_stats', JSON.stringify({ stats: { a: { read: '2026-12-07T10:00:01Z' } }, task: task(1, 512) })],
    ['truncated JSON', answer({}).slice(0, 20)],
    ['the metadata endpoint\'s error text', '{"stats":task metadata unreadable}'],
  ])('%s is unread', (_name, body) => {
    expect(parseAgentAnswer(body, 'CPU_UTILIZATION').ok).toBe(false);
  });

  test('times in nanoseconds, as Docker writes them (to within a microsecond: epoch nanoseconds pass 2^53)', () => {
    expect(Math.abs(nanos('2026-12-07T10:00:01.123456789Z')! - nanos('2026-12-07T10:00:01Z')! - 123456789)).toBeLessThan(1000);
    expect(nanos('2026-12-07T10:00:01.5+01:00')! - nanos('2026-12-07T09:00:01Z')!).toBe(5e8);
    expect(nanos('yesterday')).toBeUndefined();
  });
});
