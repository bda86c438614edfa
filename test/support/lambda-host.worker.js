// Runs a bundled Lambda handler in a process of its own, with the environment the template
// gives the function, and answers invocations sent by the parent over IPC.
'use strict';
// The clock a test may step (see LambdaHost.setClockOffset): the handler's Date.now, not the
// machine's timers (a stepped wall clock moves neither setTimeout nor AbortSignal.timeout).
const realNow = Date.now;
let clockOffsetMs = 0;
Date.now = () => realNow() + clockOffsetMs;
const { handler } = require(process.env.LAMBDA_BUNDLE);

process.on('message', async message => {
  if (message && typeof message.clockOffsetMs === 'number') {
    clockOffsetMs = message.clockOffsetMs;
    return;
  }
  const { id, event } = message;
  try {
    const result = await handler(event);
    process.send({ id, result });
  } catch (err) {
    process.send({ id, error: { name: err && err.name ? err.name : 'Error', message: err && err.message ? err.message : String(err) } });
  }
});
process.send({ ready: true });
