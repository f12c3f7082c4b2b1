import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DownstreamError } from '../../errors.js';
import { encodeCommand, parseRedisUrl, parseReplies, readInteger, redact, RESP, RespConnection, type RespConnectionOptions, type RespReplies } from './resp-connection.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** Every value of `r` in reading order, written so a test can compare it at a glance. */
function show(r: RespReplies): string[] {
  const out: string[] = [];
  for (let i = 0; i < r.values; i++) {
    const type = r.types[i];
    if (type === RESP.array) out.push(r.starts[i] < 0 ? '*nil' : `*${r.starts[i]}`);
    else if (type === RESP.bulk) out.push(r.starts[i] < 0 ? '$nil' : `$${r.data.toString('latin1', r.starts[i], r.ends[i])}`);
    else out.push(String.fromCharCode(type) + r.data.toString('latin1', r.starts[i], r.ends[i]));
  }
  return out;
}

const bytes = (s: string) => Buffer.from(s, 'latin1');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Fails after `ms` instead of hanging until the test timeout. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

/** Settled already (after one turn of the event loop), and how. */
async function settledAtOnce(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  promise.catch(() => undefined);
  return Promise.race([promise.then(() => 'resolved' as const, () => 'rejected' as const), tick().then(() => 'pending' as const)]);
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(2);
  }
}

interface FakeConn {
  index: number;
  socket: net.Socket;
  /** Commands received so far, decoded. */
  commands: string[][];
  pending: Buffer;
  closed: boolean;
}

type Reply = string | Buffer | undefined;

/**
 * A scripted stand-in for redis-server: it decodes the commands it receives (its own small
 * decoder, not the client's parser) and answers each with what `onCommand` returns (nothing for
 * undefined).
 */
class FakeRedis {
  readonly conns: FakeConn[] = [];
  onCommand: (command: string[], conn: FakeConn) => Reply = defaultReply;
  onConnection: (conn: FakeConn) => void = () => undefined;
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<FakeRedis> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fake = new FakeRedis(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (socket) => fake.accept(socket));
    return fake;
  }

  url(rest = ''): string {
    return rest.includes('@') ? `redis://${rest.replace('@', `@127.0.0.1:${this.port}`)}` : `redis://127.0.0.1:${this.port}${rest}`;
  }

  async stop(): Promise<void> {
    for (const conn of this.conns) conn.socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const conn: FakeConn = { index: this.conns.length, socket, commands: [], pending: Buffer.alloc(0), closed: false };
    this.conns.push(conn);
    socket.on('error', () => undefined);
    socket.on('close', () => (conn.closed = true));
    socket.on('data', (chunk: Buffer) => {
      conn.pending = Buffer.concat([conn.pending, chunk]);
      for (let command = takeCommand(conn); command; command = takeCommand(conn)) {
        conn.commands.push(command);
        const reply = this.onCommand(command, conn);
        if (reply !== undefined && !socket.destroyed) socket.write(reply);
      }
    });
    this.onConnection(conn);
  }
}

/** One complete `*N $len bytes ...` command off the front of `conn.pending`, or undefined. */
function takeCommand(conn: FakeConn): string[] | undefined {
  const buf = conn.pending;
  const line = (from: number): [string, number] | undefined => {
    const cr = buf.indexOf('\r\n', from, 'latin1');
    return cr < 0 ? undefined : [buf.toString('latin1', from, cr), cr + 2];
  };
  const head = line(0);
  if (!head) return undefined;
  if (head[0][0] !== '*') throw new Error(`fake redis: not a command: ${JSON.stringify(head[0])}`);
  let pos = head[1];
  const args: string[] = [];
  for (let i = 0; i < Number(head[0].slice(1)); i++) {
    const len = line(pos);
    if (!len) return undefined;
    const n = Number(len[0].slice(1));
    if (len[1] + n + 2 > buf.length) return undefined;
    args.push(buf.toString('latin1', len[1], len[1] + n));
    pos = len[1] + n + 2;
  }
  conn.pending = buf.subarray(pos);
  return args;
}

function defaultReply(command: string[]): Reply {
  switch (command[0].toUpperCase()) {
    case 'AUTH':
    case 'SELECT':
    case 'CLIENT':
      return '+OK\r\n';
    case 'PING':
      return '+PONG\r\n';
    case 'ECHO':
      return `$${Buffer.byteLength(command[1], 'latin1')}\r\n${command[1]}\r\n`;
    default:
      return `-ERR unknown command '${command[0]}'\r\n`;
  }
}

const servers: FakeRedis[] = [];
const connections: RespConnection[] = [];

async function fake(): Promise<FakeRedis> {
  const server = await FakeRedis.start();
  servers.push(server);
  return server;
}

interface Watched {
  conn: RespConnection;
  errors: Error[];
  events: string[];
}

/** A connection with small timeouts whose events are recorded. */
function connect(url: string, options: Partial<RespConnectionOptions> = {}): Watched {
  const conn = new RespConnection({ url, connectTimeout: 2000, socketTimeout: 2000, retryDelay: () => 5, ...options });
  connections.push(conn);
  const watched: Watched = { conn, errors: [], events: [] };
  conn.on('error', (err: Error) => {
    watched.errors.push(err);
    watched.events.push('error');
  });
  conn.on('ready', () => watched.events.push('ready'));
  conn.on('close', () => watched.events.push('close'));
  return watched;
}

const readies = (w: Watched) => w.events.filter((e) => e === 'ready').length;

async function ready(w: Watched, count = 1): Promise<void> {
  await until(() => readies(w) >= count, 2000, `ready #${count}`);
  expect(w.conn.status).toBe('ready');
}

/** The client's current socket (to count the chunks it reads). */
const socketOf = (conn: RespConnection) => (conn as unknown as { socket: net.Socket }).socket;

const command = (...args: string[]) => encodeCommand(args);
const pipeline = (...commands: string[][]) => Buffer.concat(commands.map((args) => encodeCommand(args)));

afterEach(async () => {
  for (const conn of connections.splice(0)) conn.close();
  for (const server of servers.splice(0)) await server.stop();
});

// ---------------------------------------------------------------------------------------------

describe('parseRedisUrl', () => {
  it('defaults host, port and db; no credentials, no TLS', () => {
    expect(parseRedisUrl('redis://localhost')).toEqual({ host: 'localhost', port: 6379, tls: false, username: undefined, password: undefined, db: 0 });
    expect(parseRedisUrl('redis://')).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(parseRedisUrl('redis://h/')).toMatchObject({ host: 'h', db: 0 });
  });

  it('reads user, password, port and db', () => {
    expect(parseRedisUrl('redis://alice:s3cret@cache.example:6380/7')).toEqual({
      host: 'cache.example',
      port: 6380,
      tls: false,
      username: 'alice',
      password: 's3cret',
      db: 7,
    });
    // A password alone (AUTH password), the form Redis without ACL users takes.
    expect(parseRedisUrl('redis://:pw@h')).toMatchObject({ username: undefined, password: 'pw' });
    expect(parseRedisUrl('redis://h/03').db).toBe(3);
  });

  it('percent-decodes the credentials', () => {
    expect(parseRedisUrl('redis://us%40er:p%40ss%3Aw%2Frd%25@h/1')).toMatchObject({ username: 'us@er', password: 'p@ss:w/rd%', db: 1 });
  });

  it('takes rediss:// as TLS', () => {
    expect(parseRedisUrl('rediss://:pw@h:6390')).toMatchObject({ host: 'h', port: 6390, tls: true, password: 'pw' });
  });

  it('unwraps an IPv6 address', () => {
    expect(parseRedisUrl('redis://[::1]:7000/2')).toMatchObject({ host: '::1', port: 7000, db: 2 });
    expect(parseRedisUrl('redis://[::1]').host).toBe('::1');
  });

  it('rejects other schemes, non-numeric paths and non-URLs, without showing the password', () => {
    expect(() => parseRedisUrl('http://u:hunter2@h:6379')).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisUrl('http://u:hunter2@h:6379')).not.toThrow(/hunter2/);
    expect(() => parseRedisUrl('h:6379')).toThrow(/not a Redis URL/);
    expect(() => parseRedisUrl('no url at all')).toThrow(/not a Redis URL/);
    expect(() => parseRedisUrl('redis://h/cache')).toThrow(/database number/);
    expect(() => parseRedisUrl('redis://h/1/2')).toThrow(/database number/);
    expect(() => parseRedisUrl('redis://h/-1')).toThrow(/database number/);
  });
});

describe('redact', () => {
  it('masks the credentials and keeps the rest', () => {
    expect(redact('redis://alice:s3cret@h:6380/2')).toBe('redis://***@h:6380/2');
    expect(redact('rediss://:pw@h')).toBe('rediss://***@h');
    expect(redact('redis://h:6379/2')).toBe('redis://h:6379/2');
  });

  it('masks all of a password with a raw @ in it (the URL parser splits at the last @)', () => {
    expect(parseRedisUrl('redis://u:p@ss@h').password).toBe('p@ss');
    expect(redact('redis://u:p@ss@h/1')).toBe('redis://***@h/1');
  });
});

describe('readInteger', () => {
  const at = (s: string) => readInteger(bytes(s), 0, s.length);
  it('reads decimal integers, negative ones too', () => {
    expect(at('0')).toBe(0);
    expect(at('42')).toBe(42);
    expect(at('-17')).toBe(-17);
    expect(at('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads only its range', () => {
    expect(readInteger(bytes(':123\r\n'), 1, 4)).toBe(123);
    expect(readInteger(bytes('x-5y'), 1, 3)).toBe(-5);
  });

  it('is NaN for anything else', () => {
    for (const s of ['', '-', '+1', '1a', ' 1', '1.5', '--1']) expect(at(s), s).toBeNaN();
  });
});

describe('parseReplies', () => {
  it('reads simple strings, errors and integers', () => {
    const r = parseReplies(bytes('+OK\r\n+\r\n-ERR wrong type\r\n:0\r\n:1234\r\n:-56\r\n'), 6);
    expect(show(r)).toEqual(['+OK', '+', '-ERR wrong type', ':0', ':1234', ':-56']);
    expect(r.text(0)).toBe('OK');
    expect(r.text(2)).toBe('ERR wrong type');
    expect([r.integer(3), r.integer(4), r.integer(5)]).toEqual([0, 1234, -56]);
    expect(r.integer(0)).toBeNaN(); // not an integer reply
  });

  it('reads bulk strings: empty, nil, and binary ones with CR LF inside', () => {
    const binary = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0x24, 0x2a, 0x0d, 0x0a, 0x0d]);
    const data = Buffer.concat([bytes('$5\r\nhello\r\n$0\r\n\r\n$-1\r\n'), bytes(`$${binary.length}\r\n`), binary, bytes('\r\n:7\r\n')]);
    const r = parseReplies(data, 5);
    expect(r.values).toBe(5);
    expect(show(r).slice(0, 3)).toEqual(['$hello', '$', '$nil']);
    expect([r.starts[2], r.ends[2]]).toEqual([-1, -1]);
    expect(r.text(2)).toBe('');
    expect(Buffer.compare(r.data.subarray(r.starts[3], r.ends[3]), binary)).toBe(0);
    expect(r.integer(4)).toBe(7);
  });

  it('reads arrays flat, elements after their array: empty, nil and nested', () => {
    const r = parseReplies(bytes('*3\r\n$1\r\na\r\n$-1\r\n:9\r\n*0\r\n*-1\r\n*2\r\n*2\r\n+x\r\n*1\r\n-E\r\n*0\r\n+after\r\n'), 5);
    expect(show(r)).toEqual(['*3', '$a', '$nil', ':9', '*0', '*nil', '*2', '*2', '+x', '*1', '-E', '*0', '+after']);
    expect(r.values).toBe(13);
    expect(r.text(0)).toBe(''); // an array has no text
  });

  it('reads only the replies asked for; data ends after them', () => {
    const r = parseReplies(bytes('+a\r\n+b\r\n+c\r\n'), 2);
    expect(show(r)).toEqual(['+a', '+b']);
    expect(r.data.toString('latin1')).toBe('+a\r\n+b\r\n');
    expect(parseReplies(bytes('+a\r\n'), 0).values).toBe(0);
  });

  it('holds more values than its first columns (growth)', () => {
    const n = 1000;
    const data = bytes(`*${n}\r\n` + Array.from({ length: n }, (_, i) => `:${i}\r\n`).join('') + '+end\r\n');
    const r = parseReplies(data, 2);
    expect(r.values).toBe(n + 2);
    expect(r.integer(n)).toBe(n - 1);
    expect(r.text(n + 1)).toBe('end');
  });

  it('says when replies are incomplete', () => {
    for (const s of ['', '+OK', '+OK\r', '$5\r\nhel', '$5\r\nhello', '$5\r\nhello\r', '*2\r\n:1\r\n', '*1\r\n*1\r\n']) {
      expect(() => parseReplies(bytes(s), 1), JSON.stringify(s)).toThrow(/0 of 1 replies complete/);
    }
    expect(() => parseReplies(bytes('+a\r\n'), 2)).toThrow(/1 of 2 replies complete/);
  });

  it('rejects malformed replies', () => {
    for (const s of ['?\r\n', 'OK\r\n', '+OK\n', '$x\r\n', '$\r\n', '$-2\r\n', '*x\r\n', '*-2\r\n', '*1\r\n?\r\n', '$3\r\nabcde\r\n', '$3\r\nabc\n\n']) {
      expect(() => parseReplies(bytes(s), 1), JSON.stringify(s)).toThrow(/malformed/);
    }
  });
});

describe('encodeCommand', () => {
  it('writes an array of bulk strings, UTF-8 and bytes as given', () => {
    expect(encodeCommand(['SET', 'k', 'é']).toString('latin1')).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n');
    expect(encodeCommand([Buffer.from([0, 13, 10])])).toEqual(Buffer.concat([bytes('*1\r\n$3\r\n'), Buffer.from([0, 13, 10]), bytes('\r\n')]));
  });
});

// ---------------------------------------------------------------------------------------------

describe('RespConnection against a fake server', () => {
  // Three pipelines in flight at once, each reply kind in them, binary bytes with CR LF inside.
  const binary = '\x00\r\n\xff$*\r\n';
  const scripted: Record<string, string> = {
    SET: '+OK\r\n',
    GETBIN: `$${binary.length}\r\n${binary}\r\n`,
    HMGET: '*3\r\n$1\r\n1\r\n$-1\r\n$0\r\n\r\n',
    INCRBY: ':-7\r\n',
    BAD: '-ERR unknown command\r\n',
    NESTED: '*2\r\n*2\r\n:1\r\n+a\r\n*-1\r\n',
    EMPTY: '*0\r\n',
    PING: '+PONG\r\n',
  };
  const pipelines = [
    { payload: pipeline(['SET', 'k', 'v'], ['GETBIN'], ['HMGET', 'h', 'a', 'b', 'c']), replies: 3, expected: ['+OK', `$${binary}`, '*3', '$1', '$nil', '$'] },
    { payload: pipeline(['INCRBY', 'n', '-7'], ['BAD']), replies: 2, expected: [':-7', '-ERR unknown command'] },
    { payload: pipeline(['NESTED'], ['EMPTY'], ['PING']), replies: 3, expected: ['*2', '*2', ':1', '+a', '*nil', '*0', '+PONG'] },
  ];
  const allReplies = Object.values(scripted).join('');
  const commandCount = 8;

  /** Sends the three pipelines at once and checks every answer, in order. */
  async function sendAll(conn: RespConnection): Promise<void> {
    const order: number[] = [];
    const answers = await within(
      Promise.all(
        pipelines.map((p, i) =>
          conn.exec(p.payload, p.replies).then((r) => {
            order.push(i);
            return show(r);
          }),
        ),
      ),
      2000,
      'replies',
    );
    expect(answers).toEqual(pipelines.map((p) => p.expected));
    expect(order).toEqual([0, 1, 2]);
  }

  /** Collects the commands of all three pipelines, then calls `answer`. */
  function answerAllWith(server: FakeRedis, answer: (socket: net.Socket) => Promise<void>): void {
    let seen = 0;
    server.onCommand = (cmd, conn) => {
      if (!(cmd[0] in scripted)) return defaultReply(cmd);
      if (++seen % commandCount === 0) void answer(conn.socket);
      return undefined;
    };
  }

  function countChunks(conn: RespConnection): { chunks: number } {
    const counter = { chunks: 0 };
    socketOf(conn).on('data', () => counter.chunks++);
    return counter;
  }

  it('resolves pipelines in order from replies read one byte at a time', async () => {
    const server = await fake();
    answerAllWith(server, async (socket) => {
      for (let i = 0; i < allReplies.length; i++) {
        socket.write(bytes(allReplies[i]));
        await tick();
        await tick();
      }
    });
    const w = connect(server.url());
    await ready(w);
    const counter = countChunks(w.conn);
    await sendAll(w.conn);
    // The point of the test: the client really read (nearly) one byte per chunk.
    expect(counter.chunks).toBeGreaterThan(allReplies.length / 2);
    expect(w.errors).toEqual([]);
  });

  it('resolves pipelines in order from all replies in one chunk', async () => {
    const server = await fake();
    answerAllWith(server, async (socket) => void socket.write(bytes(allReplies)));
    const w = connect(server.url());
    await ready(w);
    const counter = countChunks(w.conn);
    await sendAll(w.conn);
    expect(counter.chunks).toBe(1);
  });

  it('resolves pipelines from replies cut in two at every point', async () => {
    const server = await fake();
    let cut = 0;
    answerAllWith(server, async (socket) => {
      socket.write(bytes(allReplies.slice(0, cut)));
      await tick();
      await tick();
      socket.write(bytes(allReplies.slice(cut)));
    });
    const w = connect(server.url());
    await ready(w);
    for (cut = 1; cut < allReplies.length; cut++) await sendAll(w.conn);
    expect(server.conns).toHaveLength(1);
    expect(w.errors).toEqual([]);
  });

  it('handshakes AUTH user password, SELECT and CLIENT SETNAME in one pipeline before ready', async () => {
    const server = await fake();
    // No answer until all three are in: a client waiting for each answer would never get ready.
    server.onCommand = (cmd, conn) => (conn.commands.length === 3 ? '+OK\r\n+OK\r\n+OK\r\n' : undefined);
    const w = connect(server.url('al%40ice:p%3Ass w@/5'), { name: 'weir dedup\tshared' });
    await ready(w);
    expect(server.conns[0].commands).toEqual([
      ['AUTH', 'al@ice', 'p:ss w'],
      ['SELECT', '5'],
      ['CLIENT', 'SETNAME', 'weir_dedup_shared'],
    ]);
  });

  it('sends AUTH with the password alone when the URL has no user', async () => {
    const server = await fake();
    const w = connect(server.url(':pw@'));
    await ready(w);
    expect(server.conns[0].commands).toEqual([['AUTH', 'pw']]);
  });

  it('sends no handshake when the URL asks for none', async () => {
    const server = await fake();
    const w = connect(server.url('/0'));
    await ready(w);
    expect(server.conns[0].commands).toEqual([]);
    expect(show(await w.conn.exec(command('PING'), 1))).toEqual(['+PONG']);
    expect(server.conns[0].commands).toEqual([['PING']]);
  });

  it('fails the attempt on an error reply to AUTH, says why, and tries again', async () => {
    const server = await fake();
    server.onCommand = (cmd, conn) =>
      cmd[0] === 'AUTH' && conn.index < 2 ? '-WRONGPASS invalid username-password pair or user is disabled.\r\n' : cmd[0] === 'AUTH' ? '+OK\r\n' : defaultReply(cmd);
    const w = connect(server.url(':pw@/2'), { name: 'n' });
    await ready(w);
    expect(server.conns).toHaveLength(3);
    expect(w.errors.map((e) => e.message)).toEqual([
      'AUTH failed: WRONGPASS invalid username-password pair or user is disabled.',
      'AUTH failed: WRONGPASS invalid username-password pair or user is disabled.',
    ]);
    expect(w.events).toEqual(['error', 'close', 'error', 'close', 'ready']);
    expect(server.conns[0].closed && server.conns[1].closed).toBe(true);
  });

  it('fails the attempt on an error reply to SELECT too', async () => {
    const server = await fake();
    server.onCommand = (cmd, conn) => (cmd[0] === 'SELECT' && conn.index === 0 ? '-ERR DB index is out of range\r\n' : defaultReply(cmd));
    const w = connect(server.url('/99'));
    await ready(w);
    expect(w.errors.map((e) => e.message)).toEqual(['SELECT failed: ERR DB index is out of range']);
    expect(server.conns).toHaveLength(2);
  });

  it('gives up an attempt whose handshake takes longer than connectTimeout', async () => {
    const server = await fake();
    server.onCommand = (cmd, conn) => (conn.index === 0 ? undefined : defaultReply(cmd));
    const w = connect(server.url(':pw@'), { connectTimeout: 100, socketTimeout: 10_000 });
    await ready(w);
    expect(w.errors.map((e) => e.message)).toEqual(['connect timeout after 100 ms']);
    expect(server.conns).toHaveLength(2);
  });

  it('rejects exec at once while not ready: connecting, handshaking, reconnecting', async () => {
    const server = await fake();
    server.onCommand = (cmd, conn) => (conn.index === 0 ? undefined : defaultReply(cmd)); // the first handshake hangs
    const w = connect(server.url(':pw@'), { retryDelay: () => 200 });
    expect(w.conn.status).toBe('connecting');
    const early = w.conn.exec(command('PING'), 1);
    expect(await settledAtOnce(early)).toBe('rejected');
    await expect(early).rejects.toThrow(DownstreamError);
    await expect(early).rejects.toThrow('redis: not connected (connecting)');

    await until(() => server.conns[0]?.commands.length === 1, 1000, 'AUTH sent');
    expect(await settledAtOnce(w.conn.exec(command('PING'), 1))).toBe('rejected');
    expect(server.conns[0].commands).toEqual([['AUTH', 'pw']]); // the PING was never written

    server.conns[0].socket.destroy();
    await until(() => w.conn.status === 'reconnecting', 1000, 'reconnecting');
    await expect(w.conn.exec(command('PING'), 1)).rejects.toThrow('redis: not connected (reconnecting)');
    await ready(w);
    expect(show(await w.conn.exec(command('PING'), 1))).toEqual(['+PONG']);
  });

  it('rejects waiting pipelines when the server closes, emits close, reconnects and is ready again', async () => {
    const server = await fake();
    server.onCommand = (cmd, conn) => {
      if (cmd[0] === 'HANG' && conn.index === 0) {
        if (conn.commands.length === 2) conn.socket.destroy(); // both pipelines are waiting
        return undefined;
      }
      return defaultReply(cmd);
    };
    const w = connect(server.url());
    await ready(w);
    const first = w.conn.exec(command('HANG'), 1);
    const second = w.conn.exec(command('HANG'), 1);
    await expect(within(first, 1000, 'first')).rejects.toThrow('redis: connection lost');
    await expect(within(second, 1000, 'second')).rejects.toThrow(DownstreamError);
    expect(w.events).toContain('close');
    await ready(w, 2);
    expect(w.events).toEqual(['ready', 'close', 'ready']);
    expect(server.conns).toHaveLength(2);
    expect(show(await w.conn.exec(command('ECHO', 'again'), 1))).toEqual(['$again']);
  });

  it('reconnects with the delays retryDelay gives, counting attempts from 1 again after success', async () => {
    const server = await fake();
    const attempts: number[] = [];
    server.onCommand = (cmd, conn) => (conn.index < 3 ? '-ERR no\r\n' : defaultReply(cmd));
    const w = connect(server.url(':pw@'), {
      retryDelay: (attempt) => {
        attempts.push(attempt);
        return 5;
      },
    });
    await ready(w);
    expect(attempts).toEqual([1, 2, 3]);
    server.conns[3].socket.destroy();
    await ready(w, 2);
    expect(attempts).toEqual([1, 2, 3, 1]);
  });

  describe('socketTimeout', () => {
    it('drops a connection that never answers a waiting pipeline', async () => {
      const server = await fake();
      server.onCommand = (cmd, conn) => (conn.index === 0 && cmd[0] === 'PING' ? undefined : defaultReply(cmd));
      const w = connect(server.url(), { socketTimeout: 100 });
      await ready(w);
      const started = Date.now();
      await expect(within(w.conn.exec(command('PING'), 1), 1000, 'drop')).rejects.toThrow('redis: connection lost');
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(w.errors.map((e) => e.message)).toEqual(['no reply within 100 ms']);
      await ready(w, 2);
      expect(show(await w.conn.exec(command('PING'), 1))).toEqual(['+PONG']);
    });

    it('keeps an idle connection with nothing waiting', async () => {
      const server = await fake();
      const w = connect(server.url(), { socketTimeout: 50 });
      await ready(w);
      await sleep(300);
      expect(w.conn.status).toBe('ready');
      expect(w.events).toEqual(['ready']);
      expect(server.conns).toHaveLength(1);
      expect(server.conns[0].closed).toBe(false);
      // And after being idle for longer than the timeout, it still works and still times out.
      expect(show(await w.conn.exec(command('PING'), 1))).toEqual(['+PONG']);
    });

    it('drops a silent connection after being idle first', async () => {
      const server = await fake();
      server.onCommand = (cmd) => (cmd[0] === 'PING' ? undefined : defaultReply(cmd));
      const w = connect(server.url(), { socketTimeout: 80 });
      await ready(w);
      await sleep(200);
      const started = Date.now();
      await expect(within(w.conn.exec(command('PING'), 1), 1000, 'drop')).rejects.toThrow('redis: connection lost');
      expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    });

    it('drops a silent connection even while pipelines keep being sent to it', async () => {
      const server = await fake();
      server.onCommand = (cmd, conn) => (conn.index === 0 && cmd[0] === 'PING' ? undefined : defaultReply(cmd));
      const w = connect(server.url(), { socketTimeout: 100 });
      await ready(w);
      const sent: Promise<unknown>[] = [];
      const started = Date.now();
      // A busy caller writes more often than socketTimeout; nothing comes back.
      while (!w.events.includes('close') && Date.now() - started < 1000) {
        if (w.conn.status === 'ready') sent.push(w.conn.exec(command('PING'), 1).catch((err: Error) => err));
        await sleep(20);
      }
      expect(w.events.slice(0, 3)).toEqual(['ready', 'error', 'close']);
      expect(Date.now() - started).toBeLessThan(400);
      expect(sent.length).toBeGreaterThan(3);
      expect(w.errors.map((e) => e.message)).toEqual(['no reply within 100 ms']);
      const outcomes = await Promise.all(sent);
      expect(outcomes.every((o) => o instanceof DownstreamError)).toBe(true);
    });

    it('keeps a connection whose answer trickles in slower than socketTimeout but byte by byte faster', async () => {
      const server = await fake();
      server.onCommand = (cmd, conn) => {
        if (cmd[0] !== 'SLOW') return defaultReply(cmd);
        void (async () => {
          for (const ch of '$5\r\nslow!\r\n') {
            await sleep(30);
            conn.socket.write(ch);
          }
        })();
        return undefined;
      };
      const w = connect(server.url(), { socketTimeout: 100 });
      await ready(w);
      const started = Date.now();
      expect(show(await within(w.conn.exec(command('SLOW'), 1), 2000, 'slow reply'))).toEqual(['$slow!']);
      expect(Date.now() - started).toBeGreaterThan(250); // longer than socketTimeout in all
      expect(w.events).toEqual(['ready']);
    });
  });

  describe('close()', () => {
    it('rejects waiting pipelines and does not reconnect', async () => {
      const server = await fake();
      server.onCommand = (cmd) => (cmd[0] === 'HANG' ? undefined : defaultReply(cmd));
      const w = connect(server.url());
      await ready(w);
      const waiting = w.conn.exec(command('HANG'), 1);
      await until(() => server.conns[0].commands.length === 1, 1000, 'HANG sent');
      w.conn.close();
      await expect(within(waiting, 100, 'rejection')).rejects.toThrow('redis: connection closed');
      expect(w.conn.status).toBe('closed');
      await until(() => server.conns[0].closed, 1000, 'server sees the close');
      await sleep(100); // retryDelay is 5 ms
      expect(server.conns).toHaveLength(1);
      expect(w.conn.status).toBe('closed');
      expect(readies(w)).toBe(1);
      await expect(w.conn.exec(command('PING'), 1)).rejects.toThrow('redis: not connected (closed)');
    });

    it('stops a reconnect that is waiting for its delay', async () => {
      const server = await fake();
      const w = connect(server.url(), { retryDelay: () => 50 });
      await ready(w);
      server.conns[0].socket.destroy();
      await until(() => w.conn.status === 'reconnecting', 1000, 'reconnecting');
      w.conn.close();
      await sleep(200);
      expect(server.conns).toHaveLength(1);
      expect(w.conn.status).toBe('closed');
    });

    it('stops an attempt in the middle of its handshake', async () => {
      const server = await fake();
      server.onCommand = () => undefined;
      const w = connect(server.url(':pw@'), { connectTimeout: 50 });
      await until(() => server.conns[0]?.commands.length === 1, 1000, 'AUTH sent');
      w.conn.close();
      await sleep(200);
      expect(server.conns).toHaveLength(1);
      expect(w.conn.status).toBe('closed');
      expect(readies(w)).toBe(0);
    });
  });

  describe('replies nobody asked for', () => {
    it('drops the connection on an unsolicited reply, then reconnects', async () => {
      const server = await fake();
      const w = connect(server.url());
      await ready(w);
      server.conns[0].socket.write('+SURPRISE\r\n');
      await ready(w, 2);
      expect(w.errors.map((e) => e.message)).toEqual(['redis: a reply nothing asked for']);
      expect(w.events).toEqual(['ready', 'error', 'close', 'ready']);
      expect(server.conns[0].closed).toBe(true);
    });

    it('answers the pipeline, then drops the connection on bytes after its replies', async () => {
      const server = await fake();
      server.onCommand = (cmd, conn) => (cmd[0] === 'PING' && conn.index === 0 ? '+PONG\r\n:1\r\n' : defaultReply(cmd));
      const w = connect(server.url());
      await ready(w);
      expect(show(await w.conn.exec(command('PING'), 1))).toEqual(['+PONG']);
      await ready(w, 2);
      expect(w.errors.map((e) => e.message)).toEqual(['redis: a reply nothing asked for']);
    });

    it('drops the connection on a malformed reply and rejects its pipeline', async () => {
      const server = await fake();
      server.onCommand = (cmd, conn) => (cmd[0] === 'PING' && conn.index === 0 ? '~PONG\r\n' : defaultReply(cmd));
      const w = connect(server.url());
      await ready(w);
      await expect(within(w.conn.exec(command('PING'), 1), 1000, 'rejection')).rejects.toThrow('redis: connection lost');
      expect(w.errors.map((e) => e.message)).toEqual(['redis: malformed reply']);
      await ready(w, 2);
    });
  });
});
