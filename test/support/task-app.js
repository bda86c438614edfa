'use strict';
/**
 * The app container of an emulated task that has no proxy in front of it, run by
 * test/support/agent-task.ts inside the task's own network namespace:
 *   node task-app.js http1 <port> <delayMs>   HTTP/1.1, each request answered after delayMs
 *   node task-app.js h2 <port> <burnMs>       HTTP/2 cleartext (as a gRPC target group's app speaks), each stream
 *                                             burning burnMs of CPU before it is answered
 * Plain JavaScript: it starts in a fresh Node.js process per task, with no compiler in the way.
 */
const http = require('http');
const http2 = require('http2');

const [mode, port, ms] = process.argv.slice(2);
const burn = until => {
  while (Date.now() < until) { /* the app's work */ }
};
const server = mode === 'h2'
  ? http2.createServer((req, res) => {
    burn(Date.now() + Number(ms));
    res.end('ok\n');
  })
  : http.createServer((req, res) => {
    req.resume();
    setTimeout(() => res.end('ok\n'), Number(ms));
  });
if (mode !== 'h2') server.keepAliveTimeout = 80000;
server.listen(Number(port), '0.0.0.0', () => process.send ? process.send('listening') : console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
