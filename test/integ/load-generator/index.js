// The integ test's load: a fixed request rate through the load balancer for a fixed time, then a
// quiet period, then one message to the progress queue saying both are over. Plain JavaScript,
// no bundling, so that the asset's hash (in the committed snapshot) depends on this file alone.
// The AWS SDK v3 comes with the Lambda runtime.
'use strict';
const http = require('node:http');
const { setTimeout: sleep } = require('node:timers/promises');
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

exports.handler = async () => {
  const url = env('TARGET_URL');
  const connections = Number(env('CONNECTIONS'));
  const ratePerConnection = Number(env('REQUESTS_PER_SECOND_PER_CONNECTION'));
  const loadMs = Number(env('LOAD_SECONDS')) * 1000;
  const quietMs = Number(env('QUIET_SECONDS')) * 1000;

  // One keep-alive connection per loop: the rate is paced, not as fast as the service can go,
  // so that a 0.25-vCPU task answers every request and every status read.
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const periodMs = 1000 / ratePerConnection;
  const loadStarted = Date.now();
  const deadline = loadStarted + loadMs;
  const counts = { ok: 0, failed: 0 };

  const get = () => new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });

  const loop = async (offsetMs) => {
    let next = loadStarted + offsetMs;
    while (Date.now() < deadline) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      next += periodMs;
      if (await get()) counts.ok++; else counts.failed++;
    }
  };
  // Loops start spread over one period, so the requests do not come in bursts.
  await Promise.all(Array.from({ length: connections }, (_, i) => loop((i * periodMs) / connections)));
  agent.destroy();
  const loadSeconds = Math.round((Date.now() - loadStarted) / 1000);
  console.log(JSON.stringify({ phase: 'load-over', loadSeconds, ...counts }));

  await sleep(quietMs);
  const body = JSON.stringify({ phase: 'quiet-period-over', loadSeconds, quietSeconds: quietMs / 1000, ...counts });
  console.log(body);
  await new SQSClient({}).send(new SendMessageCommand({ QueueUrl: env('PROGRESS_QUEUE_URL'), MessageBody: body }));
  return counts;
};
