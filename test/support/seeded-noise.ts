/**
 * Seeded noise for the Monte Carlo tests and the benchmark's traces: a seed gives the same
 * numbers on every run and machine, so a replay fails or passes the same way each time.
 *
 * Two linear congruential generators live here, and two Box–Muller variants, because the
 * tests' thresholds were tuned on the exact sequences each call site drew: the load-trend
 * tests on Numerical Recipes' LCG, the scaling-decision replays and the benchmark's traces
 * on the ANSI C one. A call site keeps the generator it was tuned with; changing one changes
 * every run a threshold rests on.
 */

/** A source of numbers: uniform in [0, 1), or standard normal, or noise built on those. */
export type Draw = () => number;

/**
 * Numerical Recipes' LCG, x ← (1664525·x + 1013904223) mod 2³², uniform in [0, 1). Exact in
 * doubles (the product stays below 2⁵³). The load-trend tests' generator.
 */
export function numericalRecipesUniform(seed: number): Draw {
  let x = seed % 2 ** 32;
  return () => (x = (1664525 * x + 1013904223) % 2 ** 32) / 2 ** 32;
}

/**
 * The ANSI C `rand()` LCG, x ← (1103515245·x + 12345) mod 2³¹, uniform in [0, 1), computed in
 * doubles: the product passes 2⁵³ and is rounded, so this is the formula's sequence in
 * JavaScript, not C's (kept as it is: thresholds rest on it). The scaling-decision replays'
 * and the benchmark traces' generator.
 */
export function ansiCUniform(seed: number): Draw {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** mulberry32: a small 32-bit generator, uniform in [0, 1) (the Poisson replay's). */
export function mulberry32(seed: number): Draw {
  /* eslint-disable no-bitwise */
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /* eslint-enable no-bitwise */
}

/**
 * Box–Muller (its cosine half): one standard normal value from two uniform draws, the first
 * (whose logarithm is taken) read as `zeroAs` where it is 0.
 */
export function boxMuller(uniform: Draw, zeroAs: number): Draw {
  return () => Math.sqrt(-2 * Math.log(uniform() || zeroAs)) * Math.cos(2 * Math.PI * uniform());
}

/** Standard normal values over Numerical Recipes' LCG (a 0 for the logarithm read as 1e-12): the load-trend tests'. */
export function numericalRecipesGaussian(seed: number): Draw {
  return boxMuller(numericalRecipesUniform(seed), 1e-12);
}

/** Standard normal values over the ANSI C LCG, both draws kept off 0 (read as 1e-9): the scaling-decision replays' and the benchmark's. */
export function ansiCGaussian(seed: number): Draw {
  const u = ansiCUniform(seed);
  return boxMuller(() => u() || 1e-9, 1e-9);
}

/**
 * AR(1) noise, from 0: each value is φ times the one before plus `innovation` times a fresh
 * draw, e ← φ·e + innovation·draw(). Noise that persists from one reading to the next, as
 * connections that last many ticks do. `stationaryInnovation(φ, σ)` keeps its spread at σ.
 */
export function ar1(phi: number, innovation: number, draw: Draw): Draw {
  let e = 0;
  return () => (e = phi * e + innovation * draw());
}

/** The innovation that keeps AR(1) noise over standard normal draws at standard deviation `sd`: √(1 − φ²)·σ. */
export function stationaryInnovation(phi: number, sd: number): number {
  return Math.sqrt(1 - phi * phi) * sd;
}
