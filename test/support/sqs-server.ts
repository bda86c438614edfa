import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loopbackClientConfig } from './aws-loopback';
import { freePort, waitForPort } from './nginx-task';

/** moto's server, installed by .ci/setup into .ci/.moto (MOTO_SERVER names another). A missing one fails the test. */
export const MOTO_SERVER = process.env.MOTO_SERVER ?? path.join(__dirname, '..', '..', '.ci', '.moto', 'bin', 'moto_server');

/**
 * A real SQS-compatible server on loopback: moto in server mode (PyPI), which speaks SQS's
 * JSON and query protocols. Its counters are exact, not approximate: ApproximateNumberOfMessages
 * counts the messages visible now, ApproximateNumberOfMessagesNotVisible those received and not
 * yet deleted (until their visibility timeout ends), ApproximateNumberOfMessagesDelayed those whose
 * DelaySeconds has not passed. Where it differs from SQS: SQS's standard-queue counts are
 * approximate and may take a minute to settle after producers stop (what the controller's
 * 60-second rule is for); moto's settle at once. One process serves every queue of a test.
 */
export class SqsServer {
  public static async start(): Promise<SqsServer> {
    if (!fs.existsSync(MOTO_SERVER)) throw new Error(`moto_server not found at ${MOTO_SERVER}: run .ci/setup (it installs moto[server] from PyPI)`);
    const port = await freePort('127.0.0.1');
    const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', d => (stderr += d));
    const server = new SqsServer(child, `http://127.0.0.1:${port}`);
    try {
      await waitForPort('127.0.0.1', port, 20_000, () => child.exitCode !== null);
    } catch (err) {
      await server.stop();
      throw new Error(`moto_server did not start: ${(err as Error).message} ${stderr}`);
    }
    return server;
  }

  public readonly client: SQSClient;

  private constructor(private readonly child: ChildProcess, public readonly endpoint: string) {
    this.client = new SQSClient({ ...loopbackClientConfig(endpoint), maxAttempts: 1 });
  }

  /** Creates a queue; returns its URL. */
  public async createQueue(name: string): Promise<string> {
    const out = await this.client.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '30' } }));
    return out.QueueUrl!;
  }

  public stop(): Promise<void> {
    this.client.destroy();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise(resolve => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
