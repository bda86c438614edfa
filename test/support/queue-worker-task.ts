import { fork } from 'child_process';
import * as path from 'path';
import { TaskContainers, TaskRuntime } from './ecs-emulator';

/**
 * Emulated queue-worker tasks: each task is a real Node.js process long-polling the queue
 * (test/support/queue-worker.js), started when the task runs and stopped (SIGTERM, as ECS
 * stops a task) when it stops. `processed` counts the messages the workers deleted.
 */
export class QueueWorkers implements TaskRuntime {
  public processed = 0;

  constructor(private readonly endpoint: string, private readonly queueUrl: string, private readonly workMs: number) {}

  public async start(task: { readonly address: string }): Promise<TaskContainers> {
    const child = fork(path.join(__dirname, 'queue-worker.js'), [this.endpoint, this.queueUrl, String(this.workMs)], { stdio: 'ignore' });
    child.on('message', () => this.processed++);
    return {
      address: task.address,
      stop: () => new Promise<void>(resolve => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
    };
  }
}
