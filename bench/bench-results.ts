import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Writes one benchmark's section of bench/RESULTS.md (between its own markers), with
 * the machine, the date and the command, and prints it.
 */
export function writeResults(name: string, command: string, body: string): void {
  const file = path.join(__dirname, 'RESULTS.md');
  const header = '# Benchmark results\n\nEach section is rewritten by its benchmark; run them by hand (see docs/verification.md).\n';
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : header;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const section = [
    `<!-- ${name}:start -->`,
    `## ${name}`,
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} × ${cpu}, `
      + `Node.js ${process.version}. Command: \`${command}\``,
    '',
    body.trim(),
    `<!-- ${name}:end -->`,
  ].join('\n');
  const pattern = new RegExp(`<!-- ${name}:start -->[\\s\\S]*?<!-- ${name}:end -->`);
  const next = pattern.test(existing) ? existing.replace(pattern, section) : `${existing.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(file, next);
  console.log(`\n${section}\n`);
}

/** Runs a benchmark's main and exits with its outcome (the emulators keep handles open otherwise). */
export function runBenchmark(main: () => Promise<void> | void): void {
  Promise.resolve().then(main).then(() => process.exit(0), err => {
    console.error(err);
    process.exit(1);
  });
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

export function fixed(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}
