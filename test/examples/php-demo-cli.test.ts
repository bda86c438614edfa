import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

// `cdk synth` in examples/php-demo, as a user runs it: the CDK CLI runs the app, cdk-nag's
// AwsSolutions pack checks it, and a finding nobody acknowledged fails the command.
const demoDir = path.join(__dirname, '..', '..', 'examples', 'php-demo');
const outRoot = path.join(__dirname, '..', '..', '.tmp', 'php-demo-cli');
// Each synth starts the CLI, ts-node and the app: tens of seconds on a busy 2-core machine.
const timeout = 300_000;

function cdkSynth(name: string, app?: string) {
  const outdir = path.join(outRoot, name);
  fs.rmSync(outdir, { recursive: true, force: true });
  const args = ['cdk', 'synth', '--no-notices', '-q', '-o', outdir, ...(app ? ['--app', app] : [])];
  const run = spawnSync('npx', args, { cwd: demoDir, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  const reportFile = path.join(outdir, 'policy-validation-report.json');
  const report = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : undefined;
  return { status: run.status, output: `${run.stdout}\n${run.stderr}`, report, outdir };
}

describe('cdk synth in examples/php-demo', () => {
  test('passes: the AwsSolutions pack ran and found nothing unacknowledged', () => {
    const { status, output, report, outdir } = cdkSynth('clean');
    expect(output).toMatch(/AwsSolutions\s*│\s*success/);
    expect(output).not.toMatch(/failure|NagPack requires/);
    expect(status).toBe(0);
    // The report lists only failed plugins: none.
    expect(report.pluginReports).toEqual([]);
    expect(fs.existsSync(path.join(outdir, 'FastAutoscalerPhpDemo.template.json'))).toBe(true);
  }, timeout);

  test('fails on a finding nobody acknowledged, naming the rule and the resource', () => {
    const app = 'npx ts-node -P ../../tsconfig.dev.json ../../test/examples/php-demo-unacknowledged.app.ts';
    const { status, output, report } = cdkSynth('unacknowledged', app);
    expect(status).not.toBe(0);
    expect(output).toMatch(/AwsSolutions\s*│\s*failure/);
    expect(output).toContain('AwsSolutions-SNS3');
    expect(output).toContain('FastAutoscalerPhpDemo/Unacknowledged');
    expect(output).toMatch(/Resource ID: Unacknowledged[0-9A-F]{8}/);
    const plugin = report.pluginReports.find((r: any) => r.summary.pluginName === 'AwsSolutions');
    expect(plugin.summary.status).toBe('failure');
    expect(plugin.summary.metadata?.error).toBeUndefined();
    const rules = plugin.violations.map((v: any) => v.ruleName);
    expect(rules).toContain('AwsSolutions-SNS3');
    // Only the topic added here: the demo's own resources stay clean.
    const paths = plugin.violations.flatMap((v: any) => v.violatingResources.map((r: any) => r.constructPath ?? ''));
    expect(paths.filter((p: string) => !p.startsWith('FastAutoscalerPhpDemo/Unacknowledged'))).toEqual([]);
  }, timeout);
});
