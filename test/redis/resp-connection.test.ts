import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RespConnection, type RespConnectionOptions } from '../../src/clients/redis/resp-connection.js';
import { RESP, type RespReplies } from '../../src/clients/redis/resp-replies.js';
import { encodeCommand } from '../../src/clients/redis/resp-writer.js';
import { showReplies } from '../../src/clients/redis/resp.test-support.js';
import { DownstreamError } from '../../src/errors.js';
import { ThrowawayRedis, waitFor } from './support.js';

/** A password that must be percent-encoded in the URL. */
const PASSWORD = 'p@ss:w/rd %1';
const USER = 'weir-user';
const USER_PASSWORD = 'us3r@pass';

let redis: ThrowawayRedis;
const open: RespConnection[] = [];

function urlFor(credentials: { user?: string; password: string }, db: number): string {
  const user = credentials.user === undefined ? '' : encodeURIComponent(credentials.user);
  return `redis://${user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${redis.port}/${db}`;
}

interface Watched {
  conn: RespConnection;
  errors: Error[];
  readies: number;
  closes: number;
}

function connect(url: string, options: Partial<RespConnectionOptions> = {}): Watched {
  const conn = new RespConnection({ url, connectTimeout: 2000, socketTimeout: 5000, retryDelay: () => 20, ...options });
  open.push(conn);
  const watched: Watched = { conn, errors: [], readies: 0, closes: 0 };
  conn.on('error', (err: Error) => watched.errors.push(err));
  conn.on('ready', () => watched.readies++);
  conn.on('close', () => watched.closes++);
  return watched;
}

async function ready(w: Watched, count = 1): Promise<void> {
  await waitFor(() => w.readies >= count, 5000, `ready #${count}`);
  expect(w.conn.status).toBe('ready');
}


async function one(conn: RespConnection, ...args: string[]): Promise<RespReplies> {
  return conn.exec(encodeCommand(args), 1);
}

/** CLIENT INFO of the connection itself, as key=value pairs. */
async function clientInfo(conn: RespConnection): Promise<Record<string, string>> {
  const reply = await one(conn, 'CLIENT', 'INFO');
  expect(reply.types[0]).toBe(RESP.bulk);
  return Object.fromEntries(
    reply
      .text(0)
      .trim()
      .split(' ')
      .map((pair) => pair.split('=', 2) as [string, string]),
  );
}

beforeAll(async () => {
  redis = await ThrowawayRedis.start(undefined, ['--requirepass', PASSWORD]);
  expect(await redis.cli('ACL', 'SETUSER', USER, 'on', `>${USER_PASSWORD}`, '~*', '&*', '+@all')).toBe('OK');
});

afterEach(() => {
  for (const conn of open.splice(0)) conn.close();
});

afterAll(async () => {
  await redis?.stop();
});

describe('RespConnection against a real redis-server with a password', () => {
  it('authenticates, selects the db and names itself', async () => {
    const w = connect(urlFor({ password: PASSWORD }, 3), { name: 'weir resp test' });
    await ready(w);
    const info = await clientInfo(w.conn);
    expect(info).toMatchObject({ name: 'weir_resp_test', db: '3', user: 'default' });
    // The server's own list agrees, and the data lands in db 3.
    const list = await redis.cli('CLIENT', 'LIST');
    expect(list.split('\n').find((line) => line.includes(`id=${info.id} `))).toMatch(/ name=weir_resp_test .* db=3 /);
    const key = `resp:${randomBytes(4).toString('hex')}`;
    expect(showReplies(await one(w.conn, 'SET', key, 'in three'))).toEqual(['+OK']);
    expect(await redis.cli('-n', '3', 'GET', key)).toBe('in three');
    expect(await redis.cli('-n', '0', 'EXISTS', key)).toBe('0');
    expect(w.errors).toEqual([]);
  });

  it('authenticates an ACL user', async () => {
    const w = connect(urlFor({ user: USER, password: USER_PASSWORD }, 2), { name: 'acl' });
    await ready(w);
    expect(await clientInfo(w.conn)).toMatchObject({ user: USER, db: '2', name: 'acl' });
  });

  it('handshakes with the PING alone where nothing else is needed (db 0, no name)', async () => {
    const plain = await ThrowawayRedis.start();
    try {
      expect(await plain.cli('CONFIG', 'RESETSTAT')).toBe('OK');
      const w = connect(`${plain.url}/0`);
      await ready(w);
      const stats = await plain.cli('INFO', 'commandstats');
      expect(stats).toMatch(/^cmdstat_ping:calls=1,/m);
      expect(stats).not.toMatch(/^cmdstat_(auth|select|client)/m);
      expect(await clientInfo(w.conn)).toMatchObject({ db: '0', name: '', user: 'default' });
    } finally {
      await plain.stop();
    }
  });

  it('fails with a wrong password and keeps trying, never ready', async () => {
    const wrong = connect(urlFor({ password: 'not it' }, 3), { name: 'wrong' });
    const wrongUser = connect(urlFor({ user: USER, password: PASSWORD }, 1));
    await waitFor(() => wrong.errors.length >= 3 && wrongUser.errors.length >= 3, 5000, 'three failed attempts each');
    for (const w of [wrong, wrongUser]) {
      expect(w.readies).toBe(0);
      expect(w.conn.status).not.toBe('ready');
      expect(w.closes).toBeGreaterThanOrEqual(2);
      for (const err of w.errors) expect(err.message).toMatch(/^AUTH failed: WRONGPASS/);
      await expect(one(w.conn, 'PING')).rejects.toThrow(DownstreamError);
    }
    // The server is fine, and so is a client with the right password beside them.
    const right = connect(urlFor({ password: PASSWORD }, 3));
    await ready(right);
    expect(showReplies(await one(right.conn, 'PING'))).toEqual(['+PONG']);
    expect(wrong.readies + wrongUser.readies).toBe(0);
  });

  it('answers every command of a pipeline of thousands, errors included, in order', async () => {
    const w = connect(urlFor({ password: PASSWORD }, 4));
    await ready(w);
    const big = mixedPipeline(`resp:${randomBytes(4).toString('hex')}`, 7000, 1);
    const replies = await w.conn.exec(big.payload, big.replies);
    expect(replies.values).toBe(big.expected.length);
    expect(showReplies(replies)).toEqual(big.expected);
    expect(replies.integer(big.expected.indexOf(':-4'))).toBe(-4);
    expect(w.errors).toEqual([]);

    // Three such pipelines at once: each gets its own replies.
    const three = [2, 3, 4].map((seed) => mixedPipeline(`resp:${randomBytes(4).toString('hex')}`, 1400, seed));
    const answers = await Promise.all(three.map((p) => w.conn.exec(p.payload, p.replies)));
    for (const [i, r] of answers.entries()) expect(showReplies(r)).toEqual(three[i].expected);
    await one(w.conn, 'FLUSHDB');
  });

  it('reads a 1 MiB value and an HMGET of 20,000 fields with more pipelines behind them, all bytes intact to the end', async () => {
    const w = connect(urlFor({ password: PASSWORD }, 5));
    await ready(w);
    const prefix = `resp:${randomBytes(4).toString('hex')}`;
    const big = randomBytes(1 << 20);
    const mid = randomBytes(100_000);
    // Every 13th field is never set (nil), every 17th is empty.
    const fields = Array.from({ length: 20_000 }, (_, i) => (i % 13 === 12 ? null : i % 17 === 16 ? Buffer.alloc(0) : Buffer.concat([Buffer.from(`f${i}:`), randomBytes(i % 41)])));
    const setup: Buffer[] = [encodeCommand(['SET', `${prefix}:big`, big]), encodeCommand(['SET', `${prefix}:mid`, mid])];
    for (let from = 0; from < fields.length; from += 1000) {
      const args: Array<string | Buffer> = ['HSET', `${prefix}:h`];
      for (let i = from; i < from + 1000; i++) if (fields[i] !== null) args.push(`f${i}`, fields[i]!);
      setup.push(encodeCommand(args));
    }
    const stored = await w.conn.exec(Buffer.concat(setup), setup.length);
    expect(showReplies(stored).slice(0, 2)).toEqual(['+OK', '+OK']);

    const a = Buffer.concat([encodeCommand(['GET', `${prefix}:big`]), encodeCommand(['HMGET', `${prefix}:h`, ...fields.map((_, i) => `f${i}`)])]);
    const b = Buffer.concat([encodeCommand(['GET', `${prefix}:mid`]), encodeCommand(['INCRBY', `${prefix}:n`, '42']), encodeCommand(['GET', `${prefix}:missing`])]);
    const bulkIs = (r: RespReplies, v: number, want: Buffer | null) =>
      r.types[v] === RESP.bulk && (want === null ? r.starts[v] === -1 : r.starts[v] >= 0 && r.data.subarray(r.starts[v], r.ends[v]).equals(want));
    const checkA = (r: RespReplies) => {
      expect(r.values).toBe(2 + fields.length);
      expect(bulkIs(r, 0, big), 'the 1 MiB value').toBe(true);
      expect([r.types[1], r.starts[1]]).toEqual([RESP.array, fields.length]);
      expect([...fields.keys()].filter((i) => !bulkIs(r, 2 + i, fields[i])).slice(0, 5)).toEqual([]);
    };
    const checkB = (r: RespReplies, round: number) => {
      expect(r.values).toBe(3);
      expect(bulkIs(r, 0, mid), 'the 100 kB value').toBe(true);
      expect(r.integer(1)).toBe(42 * (round + 1));
      expect(bulkIs(r, 2, null)).toBe(true);
    };
    let chunks = 0;
    (w.conn as unknown as { socket: Socket }).socket.on('data', () => chunks++);
    // Three rounds of both at once, the replies of each round read while the next is in flight; each
    // copied as handed out, before the chunks after it.
    const copies: Buffer[] = [];
    const exec = (payload: Buffer, replies: number) =>
      w.conn.exec(payload, replies).then((r) => {
        copies.push(Buffer.from(r.data));
        return r;
      });
    const rounds: Array<Promise<[RespReplies, RespReplies]>> = [];
    for (let round = 0; round < 3; round++) rounds.push(Promise.all([exec(a, 2), exec(b, 3)]));
    const answers = await Promise.all(rounds);
    expect(chunks).toBeGreaterThan(20); // real Redis sent them in many pieces
    for (const [round, [ra, rb]] of answers.entries()) {
      checkA(ra);
      checkB(rb, round);
    }
    // Later reads did not write over replies handed out before them.
    expect(showReplies(await one(w.conn, 'PING'))).toEqual(['+PONG']);
    const all = answers.flat();
    expect(all.map((r, i) => r.data.equals(copies[i]))).toEqual(all.map(() => true));
    expect(w.errors).toEqual([]);
    await one(w.conn, 'FLUSHDB');
  });

  it('reconnects by itself after CLIENT KILL, handshaking again; the waiting pipeline fails', async () => {
    const w = connect(urlFor({ password: PASSWORD }, 3), { name: 'killed' });
    await ready(w);
    const before = await clientInfo(w.conn);
    const blocked = w.conn.exec(encodeCommand(['BLPOP', `resp:${randomBytes(4).toString('hex')}`, '0']), 1); // waits forever
    blocked.catch(() => undefined);
    await waitFor(async () => (await redis.cli('CLIENT', 'LIST')).includes(`id=${before.id} `) && (await redis.cli('CLIENT', 'LIST')).includes('cmd=blpop'), 2000, 'BLPOP blocking');
    expect(await redis.cli('CLIENT', 'KILL', 'ID', before.id)).toBe('1');
    await expect(blocked).rejects.toThrow('redis: connection lost');
    await ready(w, 2);
    expect(w.closes).toBe(1);
    const after = await clientInfo(w.conn);
    expect(after.id).not.toBe(before.id);
    expect(after).toMatchObject({ name: 'killed', db: '3', user: 'default' });
  });

  it('reconnects by itself after the server restarts on the same port', async () => {
    const w = connect(urlFor({ password: PASSWORD }, 3), { name: 'restarted' });
    await ready(w);
    await redis.stop();
    await waitFor(() => w.closes >= 1, 5000, 'close');
    await expect(one(w.conn, 'PING')).rejects.toThrow('redis: not connected');
    await waitFor(() => w.errors.some((e) => /ECONNREFUSED/.test(e.message)), 5000, 'refused attempts');
    expect(w.readies).toBe(1);
    await redis.start();
    await ready(w, 2);
    expect(showReplies(await one(w.conn, 'PING'))).toEqual(['+PONG']);
    expect(await clientInfo(w.conn)).toMatchObject({ name: 'restarted', db: '3' });
  });
});

/**
 * `n` commands of every kind the tier and others use: SET and GET of binary values (CR LF and
 * every byte in them), HSET and HMGET with an empty and a missing field, INCRBY, an INCR that
 * fails, and a GET of a missing key; with the replies Redis must give, as `show` writes them.
 */
function mixedPipeline(prefix: string, n: number, seed: number): { payload: Buffer; replies: number; expected: string[] } {
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const value = (i: number) => Buffer.concat([Buffer.from(`v${i}\r\n`), Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)))]);
  const commands: Array<Array<string | Buffer>> = [];
  const expected: string[] = [];
  const counters = new Map<string, number>();
  const values = new Map<number, Buffer>();
  for (let i = 0; i < n; i++) {
    switch (i % 7) {
      case 0:
        values.set(i, value(i));
        commands.push(['SET', `${prefix}:s:${i}`, values.get(i)!]);
        expected.push('+OK');
        break;
      case 1:
        commands.push(['GET', `${prefix}:s:${i - 1}`]);
        expected.push(`$${values.get(i - 1)!.toString('latin1')}`);
        break;
      case 2:
        commands.push(['HSET', `${prefix}:h:${i}`, 'f1', values.get(i - 2)!, 'f2', '']);
        expected.push(':2');
        break;
      case 3:
        commands.push(['HMGET', `${prefix}:h:${i - 1}`, 'f1', 'f2', 'missing']);
        expected.push('*3', `$${values.get(i - 3)!.toString('latin1')}`, '$', '$nil');
        break;
      case 4: {
        const key = `${prefix}:c:${i % 5}`;
        const total = (counters.get(key) ?? 0) - i;
        counters.set(key, total);
        commands.push(['INCRBY', key, String(-i)]);
        expected.push(`:${total}`);
        break;
      }
      case 5:
        commands.push(['INCR', `${prefix}:s:${i - 5}`]); // a binary string is no integer
        expected.push('-ERR value is not an integer or out of range');
        break;
      case 6:
        commands.push(['GET', `${prefix}:missing:${i}`]);
        expected.push('$nil');
        break;
    }
  }
  return { payload: Buffer.concat(commands.map((args) => encodeCommand(args))), replies: commands.length, expected };
}
