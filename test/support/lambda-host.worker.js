// Runs a bundled Lambda handler in a process of its own, with the environment the template
// gives the function, and answers invocations sent by the parent over IPC.
'use strict';
const { handler } = require(process.env.LAMBDA_BUNDLE);

process.on('message', async ({ id, event }) => {
  try {
    const result = await handler(event);
    process.send({ id, result });
  } catch (err) {
    process.send({ id, error: { name: err && err.name ? err.name : 'Error', message: err && err.message ? err.message : String(err) } });
  }
});
process.send({ ready: true });
