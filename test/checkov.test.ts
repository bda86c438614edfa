import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FastAutoscaler, MetricSource, ScalingLoop, ScalingMetric, ScalingPolicy } from '../src';

/**
 * The stacks scanned as a user's security team would: checkov (PyPI, installed by .ci/setup)
 * over the synthesized templates. With the user's key, no finding on the library's own
 * resources but those acknowledged in code, each with its reason.
 */
const CHECKOV = process.env.CHECKOV ?? path.join(__dirname, '..', '.ci', '.checkov', 'bin', 'checkov');
const ENV = { account: '123456789012', region: 'eu-west-1' };

interface Finding {
  readonly check_id: string;
  readonly check_name: string;
  readonly resource: string;
  readonly file_path: string;
  readonly check_result: { readonly result: string; readonly suppress_comment?: string };
}

function keyedApp(outdir: string): App {
  // Path metadata (on under the CDK CLI) says which resources are the library's.
  const app = new App({ outdir, context: { 'aws:cdk:enable-path-metadata': true } });
  const platform = new Stack(app, 'Platform', { env: ENV });
  const vpc = new ec2.Vpc(platform, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(platform, 'Cluster', { vpc });
  const key = new kms.Key(platform, 'Key', { enableKeyRotation: true });
  const loop = new ScalingLoop(platform, 'Loop', { vpc, encryptionKey: key });
  const apps = new Stack(app, 'Apps', { env: ENV });
  const sources = [MetricSource.nginxProxy(), MetricSource.taskAgent(), MetricSource.sqsQueue(new sqs.Queue(apps, 'Jobs', { encryptionMasterKey: key }))];
  sources.forEach((metricSource, i) => {
    const taskDefinition = new ecs.FargateTaskDefinition(apps, `Task${i}`);
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/httpd:2.4'), portMappings: [{ containerPort: 80 }] });
    new FastAutoscaler(apps, `Service${i}Autoscaler`, {
      service: new ecs.FargateService(apps, `Service${i}`, { cluster, taskDefinition }),
      policy: ScalingPolicy.targetTracking({ metric: i === 2 ? ScalingMetric.QUEUE_MESSAGES : ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10 }),
      maxTasks: 10,
      minTasks: i === 2 ? 0 : 1,
      loop,
      metricSource,
      topic: i === 0 ? new sns.Topic(apps, 'Topic', { masterKey: key }) : undefined,
    });
  });
  // A FastAutoscaler on its own loop, with its own key.
  const alone = new Stack(app, 'Alone', { env: ENV });
  const aloneVpc = new ec2.Vpc(alone, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const taskDefinition = new ecs.FargateTaskDefinition(alone, 'Task');
  taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/httpd:2.4'), portMappings: [{ containerPort: 80 }] });
  new FastAutoscaler(alone, 'Autoscaler', {
    service: new ecs.FargateService(alone, 'Service', { cluster: new ecs.Cluster(alone, 'Cluster', { vpc: aloneVpc }), taskDefinition }),
    policy: ScalingPolicy.targetTracking({ metric: ScalingMetric.ACTIVE_CONNECTIONS, targetPerTask: 10 }),
    maxTasks: 10,
    encryptionKey: new kms.Key(alone, 'Key', { enableKeyRotation: true }),
  });
  return app;
}

/** The construct paths of the library's own resources in a template: under a ScalingLoop or a FastAutoscaler. */
function ours(template: any): Map<string, string> {
  const paths = new Map<string, string>();
  for (const [id, r] of Object.entries(template.Resources) as Array<[string, any]>) {
    const cdkPath: string = r.Metadata?.['aws:cdk:path'] ?? '';
    if (/^(Platform\/Loop|Apps\/Service\dAutoscaler|Alone\/Autoscaler)\//.test(cdkPath)) paths.set(id, cdkPath);
  }
  return paths;
}

test('checkov finds nothing on the loop and its services with the user\'s key, but what is acknowledged in code with its reason', () => {
  if (!fs.existsSync(CHECKOV)) throw new Error(`checkov not found at ${CHECKOV}: run .ci/setup (it installs checkov from PyPI)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fast-autoscaler-checkov-'));
  try {
    const assembly = keyedApp(path.join(dir, 'cdk.out')).synth();
    const templates = new Map<string, any>();
    for (const stack of assembly.stacks) {
      const file = path.join(dir, `${stack.stackName}.template.json`);
      fs.writeFileSync(file, JSON.stringify(stack.template, null, 1));
      templates.set(path.basename(file), stack.template);
    }
    let out: string;
    try {
      out = execFileSync(CHECKOV, ['--directory', dir, '--framework', 'cloudformation', '--output', 'json', '--compact', '--skip-download', '--skip-path', 'cdk.out'],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LOG_LEVEL: 'ERROR', BC_SKIP_MAPPING: 'TRUE' } });
    } catch (err) {
      // checkov exits 1 when any check fails (the user's resources too); its report is on stdout.
      out = (err as { stdout?: string }).stdout ?? '';
      if (!out) throw err;
    }
    const reports = ([] as any[]).concat(JSON.parse(out));
    const failed: Finding[] = reports.flatMap(r => r.results?.failed_checks ?? []);
    const skipped: Finding[] = reports.flatMap(r => r.results?.skipped_checks ?? []);
    const isOurs = (f: Finding) => {
      const template = templates.get(path.basename(f.file_path));
      return template !== undefined && ours(template).has(f.resource.split('.').pop()!);
    };
    const findings = failed.filter(isOurs).map(f => `${f.check_id} ${f.check_name} on ${f.resource}`);
    expect(findings).toEqual([]);
    // Every acknowledgment names its reason.
    const acknowledged = skipped.filter(isOurs);
    expect(acknowledged.map(f => f.check_id).sort()).toEqual(['CKV_AWS_116', 'CKV_AWS_116', 'CKV_AWS_28', 'CKV_AWS_28']);
    for (const f of acknowledged) expect(f.check_result.suppress_comment?.length ?? 0).toBeGreaterThan(40);
    // The scan did look at our resources.
    expect(reports.flatMap(r => r.results?.passed_checks ?? []).filter(isOurs).length).toBeGreaterThan(20);
  } finally {
    if (process.env.KEEP_CHECKOV_DIR) console.log(dir); else fs.rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
