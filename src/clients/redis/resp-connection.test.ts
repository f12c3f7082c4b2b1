import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DownstreamError } from '../../errors.js';
import { defaultReply, FakeRedis } from './fake-resp-server.test-support.js';
import { RespConnection, type RespConnectionOptions } from './resp-connection.js';
import { RESP, type RespReplies } from './resp-replies.js';
import { encodeCommand } from './resp-writer.js';
import { bytes, showReplies } from './resp.test-support.js';

// ---------------------------------------------------------------------------------------------
// Helpers

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
            return showReplies(r);
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
      if (!(cmd[0] in scripted) || !conn.handshaken) return defaultReply(cmd); // the handshake's PING is answered at once
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

  it('handshakes AUTH user password, SELECT, CLIENT SETNAME and PING in one pipeline, ready only after the PONG', async () => {
    const server = await fake();
    // No answer until all four are in: a client waiting for each answer would never get ready.
    server.onCommand = (cmd, conn) => (conn.commands.length === 4 ? '+OK\r\n+OK\r\n+OK\r\n' : undefined);
    const w = connect(server.url('al%40ice:p%3Ass w@/5'), { name: 'weir dedup\tshared' });
    await until(() => server.conns[0]?.commands.length === 4, 1000, 'handshake sent');
    expect(server.conns[0].commands).toEqual([
      ['AUTH', 'al@ice', 'p:ss w'],
      ['SELECT', '5'],
      ['CLIENT', 'SETNAME', 'weir_dedup_shared'],
      ['PING'],
    ]);
    // The three OKs are in, the PONG is not: not ready yet.
    await sleep(30);
    expect(w.conn.status).toBe('connecting');
    expect(w.events).toEqual([]);
    server.conns[0].socket.write('+PONG\r\n');
    await ready(w);
    expect(w.events).toEqual(['ready']);
    expect(server.conns).toHaveLength(1);
  });

  it('sends AUTH with the password alone when the URL has no user', async () => {
    const server = await fake();
    const w = connect(server.url(':pw@'));
    await ready(w);
    expect(server.conns[0].commands).toEqual([['AUTH', 'pw'], ['PING']]);
  });

  it('sends the PING alone when the URL asks for nothing else', async () => {
    const server = await fake();
    const w = connect(server.url('/0'));
    await ready(w);
    expect(server.conns[0].commands).toEqual([['PING']]);
    expect(showReplies(await w.conn.exec(command('ECHO', 'after'), 1))).toEqual(['$after']);
    expect(server.conns[0].commands).toEqual([['PING'], ['ECHO', 'after']]);
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

  it('fails the attempt on -LOADING to the handshake PING, tries again, and is ready only after a PONG', async () => {
    const server = await fake();
    const loading = 'LOADING Redis is loading the dataset in memory';
    // As Redis does while it loads its data: AUTH, SELECT and CLIENT are fine, PING is not.
    server.onCommand = (cmd, conn) => (cmd[0] === 'PING' && conn.index < 2 ? `-${loading}\r\n` : defaultReply(cmd));
    const w = connect(server.url(':pw@/2'), { name: 'n', retryDelay: () => 20 });
    // Meanwhile exec is tried at every turn: on each error, and on each close (in the retry delay).
    const tried: Array<Promise<RespReplies>> = [];
    const tryExec = () => {
      const attempt = w.conn.exec(command('ECHO', 'too early'), 1);
      attempt.catch(() => undefined);
      tried.push(attempt);
    };
    w.conn.on('error', tryExec);
    w.conn.on('close', tryExec);
    await ready(w);
    expect(w.errors.map((e) => e.message)).toEqual([`PING failed: ${loading}`, `PING failed: ${loading}`]);
    expect(w.events).toEqual(['error', 'close', 'error', 'close', 'ready']);
    expect(server.conns).toHaveLength(3);
    for (const conn of server.conns) expect(conn.commands.slice(0, 4)).toEqual([['AUTH', 'pw'], ['SELECT', '2'], ['CLIENT', 'SETNAME', 'n'], ['PING']]);
    expect(server.conns[0].closed && server.conns[1].closed).toBe(true);
    expect(tried).toHaveLength(4);
    for (const attempt of tried) await expect(attempt).rejects.toThrow(/^redis: not connected \((connecting|reconnecting)\)$/);
    expect(server.conns.flatMap((conn) => conn.commands).filter((cmd) => cmd[0] === 'ECHO')).toEqual([]);
    expect(showReplies(await w.conn.exec(command('ECHO', 'loaded'), 1))).toEqual(['$loaded']);
    expect(server.conns[2].closed).toBe(false);
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

    await until(() => server.conns[0]?.commands.length === 2, 1000, 'AUTH and PING sent');
    expect(await settledAtOnce(w.conn.exec(command('ECHO', 'early'), 1))).toBe('rejected');
    await sleep(20);
    expect(server.conns[0].commands).toEqual([['AUTH', 'pw'], ['PING']]); // the ECHO was never written

    server.conns[0].socket.destroy();
    await until(() => w.conn.status === 'reconnecting', 1000, 'reconnecting');
    await expect(w.conn.exec(command('PING'), 1)).rejects.toThrow('redis: not connected (reconnecting)');
    await ready(w);
    expect(showReplies(await w.conn.exec(command('PING'), 1))).toEqual(['+PONG']);
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
    expect(showReplies(await w.conn.exec(command('ECHO', 'again'), 1))).toEqual(['$again']);
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

  it('resolves exec(payload, 0) at once with no values, without waiting for a byte, also with a pipeline in flight', async () => {
    const server = await fake();
    let held: net.Socket | undefined;
    server.onCommand = (cmd, conn) => {
      if (cmd[0] !== 'HOLD') return defaultReply(cmd);
      held = conn.socket;
      return undefined;
    };
    const w = connect(server.url(), { socketTimeout: 100 });
    await ready(w);
    const alone = w.conn.exec(Buffer.alloc(0), 0);
    expect(await settledAtOnce(alone)).toBe('resolved');
    const none = await alone;
    expect(none.values).toBe(0);
    expect(none.data.length).toBe(0);

    // Before an earlier pipeline still waiting for its reply, which it does not disturb.
    const waiting = w.conn.exec(command('HOLD'), 1);
    await until(() => held !== undefined, 1000, 'HOLD sent');
    const meanwhile = w.conn.exec(Buffer.alloc(0), 0);
    expect(await settledAtOnce(meanwhile)).toBe('resolved');
    expect((await meanwhile).values).toBe(0);
    expect(await settledAtOnce(waiting)).toBe('pending');
    held!.write('+HELD\r\n');
    expect(showReplies(await within(waiting, 1000, 'held reply'))).toEqual(['+HELD']);

    // Nothing is left waiting for a byte that will never come: socketTimeout does not drop the connection.
    await sleep(250);
    expect(w.events).toEqual(['ready']);
    expect(showReplies(await w.conn.exec(command('ECHO', 'still'), 1))).toEqual(['$still']);
    expect(server.conns).toHaveLength(1);
    w.conn.close();
    await expect(w.conn.exec(Buffer.alloc(0), 0)).rejects.toThrow('redis: not connected (closed)');
  });

  it('reads a reply that arrives in one chunk where it lies, without a copy', async () => {
    const server = await fake();
    const w = connect(server.url());
    await ready(w);
    const chunks: Buffer[] = [];
    socketOf(w.conn).on('data', (chunk: Buffer) => chunks.push(chunk));
    const r = await w.conn.exec(command('ECHO', 'in place'), 1);
    expect(showReplies(r)).toEqual(['$in place']);
    expect(chunks).toHaveLength(1);
    expect(r.data.buffer).toBe(chunks[0].buffer);
    expect([r.data.byteOffset, r.data.length]).toEqual([chunks[0].byteOffset, chunks[0].length]);
  });

  describe('socketTimeout', () => {
    it('drops a connection that never answers a waiting pipeline', async () => {
      const server = await fake();
      server.onCommand = (cmd, conn) => (conn.index === 0 && conn.handshaken && cmd[0] === 'PING' ? undefined : defaultReply(cmd));
      const w = connect(server.url(), { socketTimeout: 100 });
      await ready(w);
      const started = Date.now();
      await expect(within(w.conn.exec(command('PING'), 1), 1000, 'drop')).rejects.toThrow('redis: connection lost');
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(w.errors.map((e) => e.message)).toEqual(['no reply within 100 ms']);
      await ready(w, 2);
      expect(showReplies(await w.conn.exec(command('PING'), 1))).toEqual(['+PONG']);
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
      expect(showReplies(await w.conn.exec(command('PING'), 1))).toEqual(['+PONG']);
    });

    it('drops a silent connection after being idle first', async () => {
      const server = await fake();
      server.onCommand = (cmd, conn) => (conn.handshaken && cmd[0] === 'PING' ? undefined : defaultReply(cmd));
      const w = connect(server.url(), { socketTimeout: 80 });
      await ready(w);
      await sleep(200);
      const started = Date.now();
      await expect(within(w.conn.exec(command('PING'), 1), 1000, 'drop')).rejects.toThrow('redis: connection lost');
      expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    });

    it('drops a silent connection even while pipelines keep being sent to it', async () => {
      const server = await fake();
      server.onCommand = (cmd, conn) => (conn.index === 0 && conn.handshaken && cmd[0] === 'PING' ? undefined : defaultReply(cmd));
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
      expect(showReplies(await within(w.conn.exec(command('SLOW'), 1), 2000, 'slow reply'))).toEqual(['$slow!']);
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
      await until(() => server.conns[0]?.commands.length === 2, 1000, 'AUTH and PING sent');
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
      server.onCommand = (cmd, conn) => (cmd[0] === 'PING' && conn.handshaken && conn.index === 0 ? '+PONG\r\n:1\r\n' : defaultReply(cmd));
      const w = connect(server.url());
      await ready(w);
      expect(showReplies(await w.conn.exec(command('PING'), 1))).toEqual(['+PONG']);
      await ready(w, 2);
      expect(w.errors.map((e) => e.message)).toEqual(['redis: a reply nothing asked for']);
    });

    it('drops the connection on a malformed reply and rejects its pipeline', async () => {
      const server = await fake();
      server.onCommand = (cmd, conn) => (cmd[0] === 'PING' && conn.handshaken && conn.index === 0 ? '~PONG\r\n' : defaultReply(cmd));
      const w = connect(server.url());
      await ready(w);
      await expect(within(w.conn.exec(command('PING'), 1), 1000, 'rejection')).rejects.toThrow('redis: connection lost');
      expect(w.errors.map((e) => e.message)).toEqual(['redis: malformed reply']);
      await ready(w, 2);
    });

    it('drops the connection on a reply nested too deep, with no uncaught exception', async () => {
      const server = await fake();
      const deep = '*1\r\n'.repeat(100_000) + ':1\r\n'; // deep enough to overflow the stack of a recursive parser
      server.onCommand = (cmd, conn) => (cmd[0] === 'DEEP' && conn.index === 0 ? deep : defaultReply(cmd));
      const uncaught: unknown[] = [];
      const onUncaught = (err: unknown) => uncaught.push(err);
      process.on('uncaughtException', onUncaught);
      try {
        const w = connect(server.url());
        await ready(w);
        await expect(within(w.conn.exec(command('DEEP'), 1), 1000, 'rejection')).rejects.toThrow('redis: connection lost');
        expect(w.errors.map((e) => e.message)).toEqual(['redis: malformed reply']);
        await ready(w, 2);
        expect(showReplies(await w.conn.exec(command('ECHO', 'fine'), 1))).toEqual(['$fine']);
        expect(uncaught).toEqual([]);
      } finally {
        process.off('uncaughtException', onUncaught);
      }
    });
  });

  describe('replies arriving in many small chunks', () => {
    /** Deterministic bytes (xorshift), every byte value among them, with CR LF and RESP-like bytes planted every 4099. */
    function noise(length: number, seed: number): Buffer {
      const out = Buffer.alloc(length);
      let x = seed + 0x9e3779b9;
      for (let i = 0; i < length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[i] = x & 0xff;
      }
      for (let i = 17; i + 8 <= length; i += 4099) out.write('\r\n$3\r\n*1', i, 'latin1');
      return out;
    }

    const bulk = (value: Buffer | null) => (value === null ? bytes('$-1\r\n') : Buffer.concat([bytes(`$${value.length}\r\n`), value, bytes('\r\n')]));

    /** Which bulk values of `r`, from value `first` on, differ from `expected` (at most 5 named). */
    function mismatches(r: RespReplies, first: number, expected: ReadonlyArray<Buffer | null>): string[] {
      const bad: string[] = [];
      for (let i = 0; i < expected.length && bad.length < 5; i++) {
        const v = first + i;
        const want = expected[i];
        const ok = r.types[v] === RESP.bulk && (want === null ? r.starts[v] === -1 : r.starts[v] >= 0 && r.data.subarray(r.starts[v], r.ends[v]).equals(want));
        if (!ok) bad.push(`value ${v} (expected #${i})`);
      }
      return bad;
    }

    it('reads a pipeline of 1 MiB and 20,000 values in 1,000-byte chunks, the next pipeline right after it, and keeps handed-out bytes intact', async () => {
      // Pipeline A: GET of 1 MiB and an HMGET of 20,000 fields (some nil, some empty). B right behind it.
      const big = noise(1 << 20, 1);
      const fields = Array.from({ length: 20_000 }, (_, i) => (i % 13 === 12 ? null : i % 17 === 16 ? Buffer.alloc(0) : Buffer.concat([bytes(`f${i}:`), noise(i % 41, i + 2)])));
      const replyA = Buffer.concat([bulk(big), bytes(`*${fields.length}\r\n`), ...fields.map(bulk)]);
      const mid = noise(100_000, 3);
      const replyB = Buffer.concat([bulk(mid), bytes(':42\r\n$-1\r\n')]);
      // Then 40 small pipelines (500..2,000 bytes each) in one stream: each handed out from the middle of the buffer the next is appended to.
      const small = Array.from({ length: 40 }, (_, k) => noise(500 + ((k * 389) % 1500), 100 + k));
      expect(replyA.length % 1000).not.toBe(0); // the chunk that ends A starts B

      const server = await fake();
      const w = connect(server.url(), { socketTimeout: 5000 });
      await ready(w);

      // The client's socket: bytes and chunks it has read (its own listener has handled each before this one sees it).
      let received = 0;
      let chunks = 0;
      let wanted = Infinity;
      let wake: (() => void) | undefined;
      socketOf(w.conn).on('data', (chunk: Buffer) => {
        received += chunk.length;
        chunks++;
        if (received >= wanted) wake?.();
      });
      const arrived = (n: number) =>
        new Promise<void>((resolve) => {
          if (received >= n) return resolve();
          wanted = n;
          wake = resolve;
        });
      let sent = 0;
      let writes = 0;
      /** Writes `data` 1,000 bytes at a time, each once the client has read all before it: one chunk each. */
      async function trickle(socket: net.Socket, data: Buffer): Promise<void> {
        for (let at = 0; at < data.length; at += 1000) {
          const piece = data.subarray(at, at + 1000);
          sent += piece.length;
          writes++;
          socket.write(piece);
          await arrived(sent);
        }
      }
      server.onCommand = (cmd, conn) => {
        if (!conn.handshaken) return defaultReply(cmd);
        if (cmd[0] === 'NIL') void trickle(conn.socket, Buffer.concat([replyA, replyB])); // B's last command
        if (cmd[0] === 'SMALL' && cmd[1] === String(small.length - 1)) void trickle(conn.socket, Buffer.concat(small.map(bulk)));
        return undefined;
      };

      const grown: number[] = [];
      const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
      let copyOfA: Buffer | undefined;
      let ra: RespReplies;
      let rb: RespReplies;
      try {
        const a = w.conn.exec(pipeline(['BIG'], ['FIELDS']), 2).then((r) => {
          copyOfA = Buffer.from(r.data); // as handed out, before any later chunk
          return r;
        });
        const b = w.conn.exec(pipeline(['MID'], ['COUNT'], ['NIL']), 3);
        [ra, rb] = await within(Promise.all([a, b]), 20_000, 'A and B');
        for (const call of allocUnsafe.mock.calls) if (call[0] >= 64 * 1024) grown.push(call[0]);
      } finally {
        allocUnsafe.mockRestore();
      }
      expect(writes).toBe(Math.ceil((replyA.length + replyB.length) / 1000));
      expect(chunks).toBeGreaterThanOrEqual(writes);
      // Read into a buffer of its own that doubles: a few allocations for 1.8 MB in 1,800 chunks, not one per chunk.
      expect(grown.length).toBeGreaterThanOrEqual(1);
      expect(grown.length).toBeLessThanOrEqual(12);

      const checkA = () => {
        expect(ra.values).toBe(2 + fields.length);
        expect(ra.data.equals(replyA), "A's data: every byte, and only A's").toBe(true);
        expect(mismatches(ra, 0, [big])).toEqual([]);
        expect([ra.types[1], ra.starts[1], ra.next(1)]).toEqual([RESP.array, fields.length, 2 + fields.length]);
        expect(mismatches(ra, 2, fields)).toEqual([]);
      };
      const checkB = () => {
        expect(showReplies(rb).slice(1)).toEqual([':42', '$nil']);
        expect(rb.data.equals(replyB), "B's data: every byte, and only B's").toBe(true);
        expect(mismatches(rb, 0, [mid])).toEqual([]);
        expect(rb.integer(1)).toBe(42);
      };
      checkA();
      checkB();
      expect(copyOfA!.equals(replyA), "A's data as handed out").toBe(true);

      const answers = await within(
        Promise.all(small.map((_, k) => w.conn.exec(command('SMALL', String(k)), 1))),
        5000,
        'small pipelines',
      );
      for (const [k, r] of answers.entries()) {
        expect(r.values, `small #${k}`).toBe(1);
        expect(r.data.equals(bulk(small[k])), `small #${k}`).toBe(true);
      }
      // Later chunks went elsewhere than the bytes handed out before them.
      checkA();
      checkB();
      for (const [k, r] of answers.entries()) expect(mismatches(r, 0, [small[k]]), `small #${k} at the end`).toEqual([]);
      expect(w.events).toEqual(['ready']);
      expect(server.conns).toHaveLength(1);
    });
  });
});
