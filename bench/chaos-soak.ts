/**
 * The chaos soak, long: an hour (SOAK_SECONDS) of surges, plateaus and falls on the local
 * cluster (real nginx tasks, the synthesized state machine, the bundled controller) while a
 * seeded fault schedule (SEED) strikes ECS, DynamoDB, the tasks, the loop and SNS, alone and
 * together, with one loop outage long enough for the StoppedTicking alarm; then every
 * invariant of test/support/soak-invariants.ts on the recorded history. The short, seeded
 * version runs in the test suite (test/e2e/chaos-soak.e2e.test.ts).
 *
 * SOAK_SECONDS=3600 SEED=1 npx ts-node -P tsconfig.dev.json bench/chaos-soak.ts
 */
import { fixed, runBenchmark, writeResults } from './bench-results';
import { installLoopbackGuard } from '../test/support/aws-loopback';
import { ChaosSoakReport, formatReport, runChaosSoak } from '../test/support/chaos-soak';
import { FAULT_KINDS } from '../test/support/fault-schedule';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 3600);
const SEED = Number(process.env.SEED ?? 1);
/** Over two whole alarm periods (2 × 60 s) wherever it falls, so that StoppedTicking must fire. */
const LONG_OUTAGE_MS = 200_000;

runBenchmark(async () => {
  installLoopbackGuard();
  const command = `SOAK_SECONDS=${SOAK_SECONDS} SEED=${SEED} npx ts-node -P tsconfig.dev.json bench/chaos-soak.ts`;
  const started = Date.now();
  const report = await runChaosSoak({
    seed: SEED,
    soakMs: SOAK_SECONDS * 1000,
    timeScale: 0.25,
    longOutageMs: SOAK_SECONDS * 1000 > 3 * LONG_OUTAGE_MS ? LONG_OUTAGE_MS : undefined,
    log: line => console.log(line),
  });
  console.log(formatReport(report, command));
  writeResults('Chaos soak', command, body(report, (Date.now() - started) / 1000));
  if (report.violations.length > 0) process.exitCode = 1;
});

function body(r: ChaosSoakReport, wallSeconds: number): string {
  const rows = Object.keys(FAULT_KINDS).map(k => `| ${k} | ${r.faultsByKind[k] ?? 0} | ${FAULT_KINDS[k as keyof typeof FAULT_KINDS]} |`);
  const checks = Object.entries(r.checks).map(([k, n]) => `| ${k} | ${n} |`);
  return [
    `${SOAK_SECONDS} s of seeded faults and load (seed ${SEED}), ${fixed(wallSeconds / 60, 1)} minutes of wall time; runs hand over every 15 s`
      + ' (timeScale 0.25), the interval is 1 s, 2..12 tasks, scale-in on over a 10 s window.',
    '',
    '| fault kind | injected | what it imitates |',
    '| --- | ---: | --- |',
    ...rows,
    '',
    `Faults: ${r.history.faults.length}, overlapping pairs: ${r.overlaps}. Ticks logged: ${r.ticks}; loop beats (Tick entries): ${r.loopBeats};`
      + ` runs: ${r.runs}; actions: ${r.actions}.`,
    '',
    '| invariant | checks |',
    '| --- | ---: |',
    ...checks,
    '',
    `**Violations: ${r.violations.length}**${r.violations.length ? ` (first: [${r.violations[0].invariant}] ${r.violations[0].detail})` : ''}.`,
    `Longest gap between ticks: ${r.longestGapMs} ms (${r.longestGapCause}).`,
    `Reaction under faults, from the first tick that sees a surge to its UpdateService call: p50 ${r.reactionP50Ms} ms, p95 ${r.reactionP95Ms} ms`
      + ` over ${r.reactions} surges; surges exempted while a fault the action needs was active: ${JSON.stringify(r.exempted)}.`,
    `State item at most ${r.maxStateBytes} bytes; controller RSS median ${fixed(r.rssEarlyKb / 1024, 0)} MB in the first third,`
      + ` ${fixed(r.rssLateKb / 1024, 0)} MB in the last (warm samples).`,
  ].join('\n');
}
