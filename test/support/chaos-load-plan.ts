import { mulberry32 } from './seeded-noise';

/** One step of the soak's load: from `atMs` (from the soak's start), this many open connections. */
export interface LoadStep {
  readonly atMs: number;
  readonly connections: number;
  readonly phase: 'surge' | 'plateau' | 'fall';
}

/**
 * The soak's load, seeded: phases of 6 to 15 s, each a surge (the load multiplied by 1.5 to
 * 3), a plateau, or a fall (to a third to two thirds), between `min` and `max` connections.
 * Surges come as often as falls and plateaus together, so that scale-outs are many.
 */
export function loadPlan(seed: number, durationMs: number, min: number, max: number): LoadStep[] {
  // Its own stream (the seed moved), so that the fault schedule and the load vary apart.
  const draw = mulberry32(seed + 0x5eed);
  const steps: LoadStep[] = [];
  let connections = min;
  for (let at = 0; at < durationMs;) {
    const r = draw();
    const phase = r < 0.5 ? 'surge' : r < 0.75 ? 'plateau' : 'fall';
    if (phase === 'surge') connections = Math.min(max, Math.round(Math.max(connections, 4) * (1.5 + 1.5 * draw())));
    if (phase === 'fall') connections = Math.max(min, Math.round(connections * (1 / 3 + draw() / 3)));
    steps.push({ atMs: at, connections, phase });
    at += Math.round(6_000 + 9_000 * draw());
  }
  return steps;
}
