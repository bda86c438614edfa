'use strict';
/**
 * One emulated queue-worker task's app: long-polls the queue (ReceiveMessage, one message,
 * waiting up to 1 s), works `workMs` on each message, deletes it, and goes on until stopped.
 *   node queue-worker.js <sqs endpoint> <queue url> <workMs>
 * Plain JavaScript in its own Node.js process per task, with the real AWS SDK v3 SQS client.
 */
const { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } = require('@aws-sdk/client-sqs');

const [endpoint, queueUrl, workMs] = process.argv.slice(2);
if (!/^http:\/\/127\./.test(endpoint)) throw new Error(`refusing SQS endpoint ${endpoint}: stay inside 127.0.0.0/8`);
const sqs = new SQSClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' } });
let stopping = false;
process.on('SIGTERM', () => (stopping = true));

(async () => {
  while (!stopping) {
    try {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
      for (const message of out.Messages ?? []) {
        await new Promise(resolve => setTimeout(resolve, Number(workMs)));
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
        if (process.send) process.send('done');
      }
    } catch {
      await new Promise(resolve => setTimeout(resolve, 200));
    }
  }
  process.exit(0);
})();
