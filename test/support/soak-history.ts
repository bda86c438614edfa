import type { AlarmDefinition, DataPoint } from './alarm-evaluator';
import type { FaultKind } from './fault-schedule';

/**
 * What a chaos soak recorded, as plain data: the invariants (soak-invariants.ts) are pure
 * functions of it, so that each can be tested on a small history made by hand. Every time is
 * the test process's wall clock (ms since the epoch), never the controller's (which a fault steps).
 */
export interface SoakHistory {
  readonly config: {
    readonly intervalMs: number;
    readonly minTasks: number;
    readonly maxTasks: number;
    readonly scaleInWindowMs: number;
  };
  readonly startedAt: number;
  readonly endedAt: number;
  readonly faults: readonly InjectedFault[];
  /** Each service tick the controller logged, in the order they were seen. */
  readonly ticks: readonly SoakTick[];
  /** Each time an execution entered its Tick state: the loop's own beat. */
  readonly tickEntries: readonly number[];
  /** Each UpdateService call that reached ECS's endpoint (the proxy in front of it), whatever became of it. */
  readonly updateServiceCalls: readonly { readonly at: number; readonly desiredCount: number }[];
  /** Each conditional write of the service's state item the controller made. */
  readonly stateWrites: readonly StateWrite[];
  /** The loop's Ticks metric (EMF), as CloudWatch would store it, and the alarm on it as synthesized. */
  readonly ticksMetric: readonly DataPoint[];
  readonly stoppedTickingAlarm: AlarmDefinition;
  /** The state item's size, and the recommendation buckets it holds, sampled. */
  readonly stateSizes: readonly { readonly at: number; readonly bytes: number; readonly buckets: number }[];
  /** The controller process's resident memory, sampled (pid: a crash starts a new one). */
  readonly rss: readonly { readonly at: number; readonly kb: number; readonly pid: number }[];
}

export interface InjectedFault {
  readonly id: string;
  readonly kind: FaultKind;
  /** When it took effect. */
  readonly from: number;
  /**
   * When it ended, as the kind defines it: a crash when the new instance is ready; a loop
   * outage when the next start is delivered; any other when its injector was removed.
   */
  readonly to: number;
  /** The scale-out needs what it breaks: UpdateService, the state write, the controller, the loop. */
  readonly blocksAction: boolean;
  /** It stops the loop itself (no tick can run while it lasts). */
  readonly stopsLoop: boolean;
}

export interface SoakTick {
  readonly runId: string;
  /** When the tick's line was seen: after its decision, its state write and its scale call. */
  readonly at: number;
  /** When it began (`at` less the tick's own duration): no later than its reads. */
  readonly startedAt: number;
  readonly action: 'HOLD' | 'SCALE_OUT' | 'SCALE_IN';
  readonly desiredCount: number;
  /** The desired count the tick read (before its action). */
  readonly previousDesiredCount: number;
  /** What the tasks read ask for; undefined when the tick read nothing (it failed, held early). */
  readonly recommendation?: number;
  readonly failed: number;
  readonly draining: number;
  readonly starting: number;
  /** The tick called UpdateService (with this outcome). */
  readonly scaled?: boolean;
  readonly error?: string;
}

export interface StateWrite {
  readonly at: number;
  readonly expectedVersion: number;
  readonly ok: boolean;
  readonly lastAction?: { readonly runId?: string; readonly action: string; readonly to: number; readonly at: number };
}
