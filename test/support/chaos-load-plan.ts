import { mulberry32 } from './seeded-noise';

/** One step of the soak's load: from `atMs` (from the soak's start), this many open connections. */
export interface LoadStep {
  readonly atMs: number;
  readonly connections: number;
  readonly phase: 'surge' | 'plateau' | 'fall';
}

/**
 * The soak's load, seeded: phases of 5 to 12 s, each a surge (from 30% to all of the way up
 * to `max`), a plateau, or a fall (at least halfway down to `min`). Swings are wide on purpose
 * (a multiplicative walk would hover near `min`), so that scale-outs and scale-ins are many.
 */
export function loadPlan(seed: number, durationMs: number, min: number, max: number): LoadStep[] {
  // Its own stream (the seed moved), so that the fault schedule and the load vary apart.
  const draw = mulberry32(seed + 0x5eed);
  const steps: LoadStep[] = [];
  let connections = min;
  for (let at = 0; at < durationMs;) {
    const r = draw();
    const phase = r < 0.45 ? 'surge' : r < 0.65 ? 'plateau' : 'fall';
    if (phase === 'surge') connections = Math.round(connections + (max - connections) * (0.3 + 0.7 * draw()));
    if (phase === 'fall') connections = Math.round(min + (connections - min) * 0.5 * draw());
    steps.push({ atMs: at, connections, phase });
    at += Math.round(5_000 + 7_000 * draw());
  }
  return steps;
}
