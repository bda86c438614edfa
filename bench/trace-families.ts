import { ansiCGaussian, ar1, Draw, mulberry32, stationaryInnovation } from '../test/support/seeded-noise';

/**
 * Families of load traces, each a kind of load with its parameters drawn from a seed (rates,
 * slopes, burst sizes, noise levels, start times): a policy is judged on 200 traces of each
 * kind it was never tuned to, not on the bench's eight fixed ones. One value a second, 15 minutes.
 */

export const TRACE_SECONDS = 900;

/** A kind of load: a seed gives one trace of it. */
export interface TraceFamily {
  readonly name: string;
  /** What the family is, with its parameter ranges, for the results. */
  readonly description: string;
  trace(seed: number): number[];
}

/** Uniform in [lo, hi). */
function between(u: Draw, lo: number, hi: number): number {
  return lo + (hi - lo) * u();
}

/** Independent relative noise of standard deviation `sd` (clipped at ±3 sd). */
function relativeNoise(gauss: Draw, sd: number): Draw {
  return () => Math.max(-3, Math.min(3, gauss())) * sd;
}

function render(shape: (t: number) => number, noise: Draw): number[] {
  return Array.from({ length: TRACE_SECONDS }, (_, t) => Math.max(0, Math.round(shape(t) * (1 + noise()))));
}

function bump(t: number, center: number, width: number): number {
  return Math.exp(-(((t - center) / width) ** 2));
}

/** Each family's draws come from its own stream of a seed, so adding a family never changes another's traces. */
function streams(seed: number, family: number): { u: Draw; noise: (sd: number) => Draw } {
  const u = mulberry32(seed * 7919 + family * 104729);
  const gauss = ansiCGaussian(Math.floor(u() * 2 ** 31));
  return { u, noise: sd => relativeNoise(gauss, sd) };
}

export const FAMILIES: readonly TraceFamily[] = [
  {
    name: 'exponential growth',
    description: 'a viral rise: 60–200 connections, doubling every 60–240 s from a start at 60–300 s, up to 1,200–2,400, ±3–8 % noise',
    trace: seed => {
      const { u, noise } = streams(seed, 1);
      const base = between(u, 60, 200); const doubling = between(u, 60, 240); const start = between(u, 60, 300);
      const cap = between(u, 1200, 2400); const sd = between(u, 0.03, 0.08);
      return render(t => Math.min(cap, t < start ? base : base * 2 ** ((t - start) / doubling)), noise(sd));
    },
  },
  {
    name: 'two ramps',
    description: 'from 60–200, a ramp of 0.5–4 /s for 60–240 s, a plateau of 60–240 s, then a ramp of another slope (0.3–3× the first) for 60–240 s, ±3–8 % noise',
    trace: seed => {
      const { u, noise } = streams(seed, 2);
      const base = between(u, 60, 200); const start = between(u, 30, 200);
      const s1 = between(u, 0.5, 4); const d1 = between(u, 60, 240); const plateau = between(u, 60, 240);
      const s2 = s1 * between(u, 0.3, 3); const d2 = between(u, 60, 240); const sd = between(u, 0.03, 0.08);
      const p1 = start + d1; const p2 = p1 + plateau;
      return render(t => base + s1 * Math.max(0, Math.min(t, p1) - start) + s2 * Math.max(0, Math.min(t, p2 + d2) - p2), noise(sd));
    },
  },
  {
    name: 'step then decay',
    description: 'from 60–300, a step of +300 to +1,600 at 60–400 s, decaying with a time constant of 60–400 s, ±3–8 % noise',
    trace: seed => {
      const { u, noise } = streams(seed, 3);
      const base = between(u, 60, 300); const at = between(u, 60, 400); const height = between(u, 300, 1600);
      const tau = between(u, 60, 400); const sd = between(u, 0.03, 0.08);
      return render(t => base + (t < at ? 0 : height * Math.exp(-(t - at) / tau)), noise(sd));
    },
  },
  {
    name: 'periodic bursts',
    description: 'a base of 100–400 with bursts of +150 to +700 lasting 5–30 s every 45–180 s (first at 0–120 s), ±3–8 % noise',
    trace: seed => {
      const { u, noise } = streams(seed, 4);
      const base = between(u, 100, 400); const period = between(u, 45, 180); const length = between(u, 5, 30);
      const height = between(u, 150, 700); const first = between(u, 0, 120); const sd = between(u, 0.03, 0.08);
      return render(t => base + (t >= first && (t - first) % period < length ? height : 0), noise(sd));
    },
  },
  {
    name: 'noisy plateau',
    description: 'a level of 200–1,600 with 5–25 % of independent noise, or 3–8 % that persists (AR(1), φ 0.9–0.98 a second), one or the other at even odds',
    trace: seed => {
      const { u, noise } = streams(seed, 5);
      const level = between(u, 200, 1600);
      if (u() < 0.5) return render(() => level, noise(between(u, 0.05, 0.25)));
      const phi = between(u, 0.9, 0.98);
      const persisting = ar1(phi, stationaryInnovation(phi, between(u, 0.03, 0.08)), ansiCGaussian(Math.floor(u() * 2 ** 31)));
      return render(() => level, persisting);
    },
  },
  {
    name: 'day with bursts',
    description: 'a day in 15 minutes: a base of 80–200, a morning peak of +300 to +900 and an evening one of +500 to +1,500 (widths 80–160 s), 2–4 bursts of +200 to +600 lasting 10–30 s, ±3–8 % noise',
    trace: seed => {
      const { u, noise } = streams(seed, 6);
      const base = between(u, 80, 200);
      const morning = { at: between(u, 180, 330), height: between(u, 300, 900), width: between(u, 80, 160) };
      const evening = { at: between(u, 550, 720), height: between(u, 500, 1500), width: between(u, 80, 160) };
      const bursts = Array.from({ length: 2 + Math.floor(u() * 3) }, () => ({
        at: between(u, 60, 840), length: between(u, 10, 30), height: between(u, 200, 600),
      }));
      const sd = between(u, 0.03, 0.08);
      return render(t => base + morning.height * bump(t, morning.at, morning.width) + evening.height * bump(t, evening.at, evening.width)
        + bursts.reduce((sum, b) => sum + (t >= b.at && t < b.at + b.length ? b.height : 0), 0), noise(sd));
    },
  },
  {
    name: 'surge',
    description: 'the bench\'s surge, drawn: from 50–150, a jump to 600–1,800 at 30–200 s lasting 180–480 s, then 100–300, ±3–8 % noise',
    trace: seed => {
      const { u, noise } = streams(seed, 7);
      const base = between(u, 50, 150); const at = between(u, 30, 200); const high = between(u, 600, 1800);
      const length = between(u, 180, 480); const after = between(u, 100, 300); const sd = between(u, 0.03, 0.08);
      return render(t => (t < at ? base : t < at + length ? high : after), noise(sd));
    },
  },
  {
    name: 'sawtooth',
    description: 'the bench\'s sawtooth, drawn: from 30–100 up to 500–1,500 over a period of 90–300 s, ±3–8 % noise',
    trace: seed => {
      const { u, noise } = streams(seed, 8);
      const low = between(u, 30, 100); const high = between(u, 500, 1500); const period = between(u, 90, 300);
      const sd = between(u, 0.03, 0.08);
      return render(t => low + ((t % period) / period) * (high - low), noise(sd));
    },
  },
  {
    name: 'flash crowd',
    description: 'the bench\'s flash crowd, drawn: from 60–200, +800 to +1,800 at 30–300 s, decaying with a time constant of 40–200 s, ±3–8 % noise',
    trace: seed => {
      const { u, noise } = streams(seed, 9);
      const base = between(u, 60, 200); const at = between(u, 30, 300); const height = between(u, 800, 1800);
      const tau = between(u, 40, 200); const sd = between(u, 0.03, 0.08);
      return render(t => (t < at ? base : base + height * Math.exp(-(t - at) / tau)), noise(sd));
    },
  },
];
