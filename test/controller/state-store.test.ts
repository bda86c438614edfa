import { EMPTY_STATE, StateConflictError, StateStore } from '../../src/controller/state-store';
import { DynaliteServer } from '../support/dynalite-server';

let dynalite: DynaliteServer;

beforeAll(async () => {
  dynalite = await DynaliteServer.start();
  await dynalite.createStateTable('state');
});
afterAll(() => dynalite.stop());

describe('StateStore on dynalite', () => {
  test('an empty table gives the empty state at version 0', async () => {
    const store = new StateStore(dynalite.client(), 'state', 'service#empty');
    expect(await store.load()).toEqual({ state: EMPTY_STATE, version: 0 });
  });

  test('saves and loads the state, counting versions', async () => {
    const store = new StateStore(dynalite.client(), 'state', 'service#a');
    const state = {
      lease: { runId: 'run-1', startedAt: 1000 },
      history: [[1000, 3]] as Array<[number, number]>,
      lastAction: { runId: 'run-1', action: 'SCALE_OUT' as const, from: 2, to: 3, at: 1000, reason: 'load' },
    };
    expect(await store.save(state, 0)).toBe(1);
    expect(await store.load()).toEqual({ state, version: 1 });
    expect(await store.save({ ...state, history: [] }, 1)).toBe(2);
    expect((await store.load()).version).toBe(2);
  });

  test('an item an older version wrote, per-task counters and all, loads without them', async () => {
    const store = new StateStore(dynalite.client(), 'state', 'service#old');
    await store.save({ history: [[1000, 3]], counters: { t1: [10, 1000] } } as any, 0);
    const loaded = await store.load();
    expect(loaded.state).toEqual({ history: [[1000, 3]] });
    expect(Object.keys(loaded.state)).not.toContain('counters');
  });

  test('a write from a stale read is a conflict, and leaves the item as it was', async () => {
    const store = new StateStore(dynalite.client(), 'state', 'service#b');
    await store.save({ ...EMPTY_STATE, lease: { runId: 'new', startedAt: 2 } }, 0);
    await expect(store.save({ ...EMPTY_STATE, lease: { runId: 'old', startedAt: 1 } }, 0)).rejects.toBeInstanceOf(StateConflictError);
    await store.save({ ...EMPTY_STATE, lease: { runId: 'new', startedAt: 2 } }, 1);
    await expect(store.save({ ...EMPTY_STATE, lease: { runId: 'old', startedAt: 1 } }, 1)).rejects.toThrow('the state of service#b changed since it was read');
    expect((await store.load()).state.lease).toEqual({ runId: 'new', startedAt: 2 });
  });
});
