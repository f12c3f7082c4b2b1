import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RespConnection } from '../../src/clients/redis/resp-connection.js';
import { freePort, ThrowawayRedis, waitFor } from './support.js';

const run = promisify(execFile);
const CONNECTION_MODULE = fileURLToPath(new URL('../../src/clients/redis/resp-connection.ts', import.meta.url));
const WRITER_MODULE = fileURLToPath(new URL('../../src/clients/redis/resp-writer.ts', import.meta.url));

/**
 * rediss:// against a redis-server with TLS on, a certificate of our own (openssl) for localhost.
 * Node trusts a private CA through NODE_EXTRA_CA_CERTS, read at start: the trusting side runs in a
 * child process, as a weir started that way would.
 */
describe('RespConnection over TLS (rediss://)', () => {
  let dir: string;
  let server: ThrowawayRedis;
  let tlsPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weir-tls-'));
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], {
      timeout: 30_000,
    });
    tlsPort = await freePort();
    // The plain port stays on for the readiness check; the client only uses the TLS one.
    server = await ThrowawayRedis.start(undefined, ['--tls-port', String(tlsPort), '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'), '--tls-auth-clients', 'no']);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('connects, sends and reads back through TLS when the certificate is trusted', async () => {
    const script = join(dir, 'client.mts'); // .mts: an ES module wherever it lies (top-level await)
    await writeFile(
      script,
      `import { RespConnection } from ${JSON.stringify(CONNECTION_MODULE)};
import { encodeCommand } from ${JSON.stringify(WRITER_MODULE)};
const conn = new RespConnection({ url: 'rediss://localhost:${tlsPort}/2', name: 'weir:tls', connectTimeout: 5000, socketTimeout: 5000 });
conn.on('error', (err) => console.error(err.message));
await new Promise((resolve) => conn.once('ready', resolve));
const commands = [['SET', 'tls:key', 'over tls'], ['GET', 'tls:key'], ['CLIENT', 'INFO']];
const replies = await conn.exec(Buffer.concat(commands.map(encodeCommand)), commands.length);
console.log(JSON.stringify([0, 1, 2].map((i) => replies.text(i))));
conn.close();
`,
    );
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') }, timeout: 30_000 });
    const [set, get, info] = JSON.parse(stdout.trim()) as string[];
    expect([set, get]).toEqual(['OK', 'over tls']);
    expect(info).toMatch(/ name=weir:tls /);
    expect(info).toMatch(/ db=2 /);
    // And it is this server's database 2 that holds it.
    expect(await server.cli('-n', '2', 'get', 'tls:key')).toBe('over tls');
  });

  it('refuses a certificate it does not trust, and keeps trying without becoming ready', async () => {
    const conn = new RespConnection({ url: `rediss://localhost:${tlsPort}`, connectTimeout: 2000, socketTimeout: 2000, retryDelay: () => 50 });
    const errors: string[] = [];
    conn.on('error', (err: Error) => errors.push(err.message));
    try {
      await waitFor(() => errors.length >= 2, 5000, 'two failed attempts');
      expect(errors[0]).toMatch(/self[- ]signed/i);
      expect(conn.status).not.toBe('ready');
      await expect(conn.exec(Buffer.from('*1\r\n$4\r\nPING\r\n'), 1)).rejects.toThrow(/not connected/);
    } finally {
      conn.close();
    }
  });
});
