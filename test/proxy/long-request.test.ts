/**
 * A quiet minute does not end a request at the proxy: nginx's stock timeouts (60 s) would
 * cut both of these, the rendered default (above the longest ALB idle timeout) does not.
 * Its own file, so that jest runs its minute beside the other suites.
 */
import { exchange, Target } from '../support/http-exchange';
import { NginxTask } from '../support/nginx-task';
import { EchoReply, TransparencyApp } from '../support/transparency-app';

const QUIET_MS = 65_000;
const ADDRESS = '127.0.2.6';

test('an answer after 65 quiet seconds, and a body that pauses 65 seconds, both pass', async () => {
  const app = await TransparencyApp.start();
  const task = await NginxTask.start({ address: ADDRESS, appPort: app.port });
  try {
    const proxy: Target = { name: 'proxy', host: ADDRESS, port: task.options.proxyPort };
    const [slow, paused] = await Promise.all([
      exchange(proxy, { path: `/slow?ms=${QUIET_MS}` }),
      exchange(proxy, {
        method: 'POST',
        path: '/echo',
        body: [Buffer.from('before the pause, '), Buffer.from('after it')],
        between: () => new Promise(resolve => setTimeout(resolve, QUIET_MS)),
      }),
    ]);
    expect({ status: slow.status, body: slow.body.toString() }).toEqual({ status: 200, body: 'slow answer' });
    expect(paused.status).toBe(200);
    expect((JSON.parse(paused.body.toString()) as EchoReply).bodyBytes).toBe(26);
  } finally {
    await task.stop();
    await app.stop();
  }
}, 120_000);
