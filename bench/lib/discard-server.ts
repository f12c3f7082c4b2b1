import { createServer } from 'node:http';

/**
 * The endpoint vmagent forwards to: reads each request to the end and answers 204. It runs as a
 * process of its own (bench/lib/servers.ts starts it), so that its CPU time is counted neither for
 * vmagent nor for the load generator. Prints `listening <port>` once it accepts connections;
 * `GET /stats` answers what it received, to confirm vmagent really forwarded.
 */

let requests = 0;
let bytes = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ requests, bytes }));
    return;
  }
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    requests++;
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('discard server: no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});

// The parent ends it with SIGTERM; close at once, in-flight forwards do not matter any more.
process.once('SIGTERM', () => process.exit(0));
