import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { DownstreamError } from '../../errors.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';
import { INCOMPLETE, MALFORMED, ParsedValues, RESP, type RespReplies } from './resp-replies.js';
import { encodeCommand } from './resp-writer.js';

export type ConnectionStatus = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface RespConnectionOptions {
  url: string;
  /** CLIENT SETNAME, so `CLIENT LIST` tells who is connected. */
  name?: string;
  /** ms a connection attempt (TCP, TLS and the handshake) may take. */
  connectTimeout: number;
  /** ms without a byte from Redis while replies are due before the connection counts as dead. */
  socketTimeout: number;
  /** ms before reconnect attempt `attempt` (1, 2, ...). */
  retryDelay?: (attempt: number) => number;
}

interface Waiting {
  replies: number;
  resolve(replies: RespReplies): void;
  reject(err: Error): void;
}

const EMPTY = Buffer.alloc(0);
/** Our own inbox starts at this size (above Buffer's pool: never a slice of a shared one). */
const MIN_INBOX_BYTES = 64 * 1024;
const defaultRetryDelay = (attempt: number) => Math.min(50 * 2 ** attempt, 1000) + Math.floor(Math.random() * 100);

/**
 * A Redis connection that sends pipelines its caller encoded (RESP2) and hands back the replies as
 * offsets into the bytes read. Made for the dedup tier's hot path: ioredis spends ~15 µs of CPU per
 * series on a pipeline of one HGET and one HSET per series (a Command object, a promise and a
 * parsed reply each); writing the same commands into one Buffer and reading the replies in place
 * costs about 1.5 (grouping the hashes included). It does what the tier needs and no more: AUTH, SELECT, CLIENT SETNAME, TLS,
 * reconnecting with backoff, dropping a connection that stops answering. No offline queue: a
 * pipeline sent while not connected fails at once (a late dedup answer is worth nothing).
 *
 * Events: `ready` (connected and handshaken), `close` (the connection ended; a reconnect follows
 * unless `close()` was called), `error` (why a connection failed or ended).
 */
export class RespConnection extends EventEmitter {
  status: ConnectionStatus = 'connecting';
  private readonly target: RedisTarget;
  private socket: net.Socket | undefined;
  private readonly waiting: Waiting[] = [];
  /**
   * Bytes read and not yet handed out: `inbox[start..end)`, from where the oldest waiting
   * pipeline's replies start. A chunk is read in place when nothing is pending; otherwise it is
   * appended to a buffer of our own that doubles when full, so a reply arriving in many chunks
   * costs linear copying, not a copy of everything so far per chunk.
   */
  private inbox: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  /** Whether `inbox` is our own buffer (room after `end` is ours to write), not a chunk read. */
  private ownInbox = false;
  /** How far past `start` the oldest waiting pipeline's replies are parsed, and what they hold so far. */
  private parsed = new ParsedValues();
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** When the oldest waiting pipeline last made progress: sent with nothing waiting, or a byte read. */
  private lastProgress = 0;

  constructor(private readonly options: RespConnectionOptions) {
    super();
    this.target = parseRedisUrl(options.url);
    this.connect();
  }

  /**
   * Sends `payload` (RESP commands, encoded by the caller) and resolves with the next `replies`
   * top-level replies once all have arrived (`replies` 0: at once, and nothing is sent). Rejects when not connected, or when the connection
   * ends first. An error reply is a value like any other (type `RESP.error`), not a rejection.
   */
  exec(payload: Buffer, replies: number): Promise<RespReplies> {
    if (this.status !== 'ready' || !this.socket) return Promise.reject(new DownstreamError(`redis: not connected (${this.status})`));
    if (replies === 0) return Promise.resolve(new ParsedValues().replies(EMPTY)); // nothing will come to wake it
    return this.send(this.socket, payload, replies);
  }

  /** Ends the connection for good; waiting pipelines are rejected. */
  close(): void {
    this.status = 'closed';
    clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.socket = undefined;
    this.failWaiting(new DownstreamError('redis: connection closed'));
  }

  private send(socket: net.Socket, payload: Buffer, replies: number): Promise<RespReplies> {
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) this.lastProgress = performance.now();
      this.waiting.push({ replies, resolve, reject });
      socket.write(payload);
    });
  }

  private connect(): void {
    const { host, port } = this.target;
    const socket = this.target.tls ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(new Error(`connect timeout after ${this.options.connectTimeout} ms`)), this.options.connectTimeout);
    socket.once(this.target.tls ? 'secureConnect' : 'connect', () => {
      this.handshake(socket).then(
        () => {
          clearTimeout(timer);
          if (this.socket !== socket) return;
          this.attempts = 0;
          this.status = 'ready';
          this.emit('ready');
        },
        (err: Error) => {
          clearTimeout(timer);
          socket.destroy(err);
        },
      );
    });
    socket.on('data', (chunk: Buffer) => this.read(socket, chunk));
    this.watch(socket);
    socket.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.inbox = EMPTY;
      this.start = this.end = 0;
      this.ownInbox = false;
      this.parsed = new ParsedValues();
      this.failWaiting(new DownstreamError('redis: connection lost'));
      if (this.status === 'closed') return;
      this.status = 'reconnecting';
      this.emit('close');
      this.attempts++;
      this.reconnectTimer = setTimeout(() => this.connect(), (this.options.retryDelay ?? defaultRetryDelay)(this.attempts));
      this.reconnectTimer.unref();
    });
  }

  /**
   * Drops `socket` once replies have been due for `socketTimeout` ms without a byte from Redis. Not
   * `socket.setTimeout`: that one fires once and is not armed again by later activity (an idle
   * spell longer than the timeout would turn it off for good), and writes reset it too (a busy
   * caller would keep a dead connection alive). One timer per connection, nothing on the hot path.
   */
  private watch(socket: net.Socket): void {
    const timeout = this.options.socketTimeout;
    const check = () => {
      if (this.socket !== socket) return;
      const silent = this.waiting.length > 0 ? performance.now() - this.lastProgress : 0;
      if (silent >= timeout) {
        socket.destroy(new Error(`no reply within ${timeout} ms`));
        return;
      }
      timer = setTimeout(check, timeout - silent);
      timer.unref();
    };
    let timer = setTimeout(check, timeout);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  /**
   * AUTH, SELECT, CLIENT SETNAME and PING as one pipeline; an error reply to any fails the attempt.
   * The PING keeps a Redis that is still loading its data (it accepts the others, answers -LOADING
   * to commands) from counting as ready.
   */
  private async handshake(socket: net.Socket): Promise<void> {
    const { username, password, db } = this.target;
    const commands: string[][] = [];
    if (password !== undefined) commands.push(username !== undefined ? ['AUTH', username, password] : ['AUTH', password]);
    if (db !== 0) commands.push(['SELECT', String(db)]);
    if (this.options.name) commands.push(['CLIENT', 'SETNAME', this.options.name.replace(/\s/g, '_')]);
    commands.push(['PING']);
    const replies = await this.send(socket, Buffer.concat(commands.map(encodeCommand)), commands.length);
    for (let i = 0; i < replies.values; i++) {
      if (replies.types[i] === RESP.error) throw new Error(`${commands[i][0]} failed: ${replies.text(i)}`);
    }
  }

  private read(socket: net.Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    this.lastProgress = performance.now();
    this.append(chunk);
    while (this.waiting.length > 0) {
      const head = this.waiting[0];
      const parsed = this.parsed;
      const unread = this.inbox.subarray(this.start, this.end);
      const end = parsed.parseUntil(unread, head.replies);
      if (end === INCOMPLETE) return;
      if (end === MALFORMED) {
        socket.destroy(new Error('redis: malformed reply'));
        return;
      }
      this.waiting.shift();
      this.parsed = new ParsedValues();
      this.start += end;
      head.resolve(parsed.replies(unread.subarray(0, end)));
    }
    if (this.start < this.end) socket.destroy(new Error('redis: a reply nothing asked for'));
  }

  private append(chunk: Buffer): void {
    const unread = this.end - this.start;
    if (unread === 0) {
      this.inbox = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.ownInbox = false;
      return;
    }
    if (this.ownInbox && this.end + chunk.length <= this.inbox.length) {
      // Past `end`: no reply handed out refers to these bytes.
      chunk.copy(this.inbox, this.end);
      this.end += chunk.length;
      return;
    }
    const grown = Buffer.allocUnsafe(Math.max(2 * (unread + chunk.length), MIN_INBOX_BYTES));
    this.inbox.copy(grown, 0, this.start, this.end);
    chunk.copy(grown, unread);
    this.inbox = grown;
    this.ownInbox = true;
    this.start = 0;
    this.end = unread + chunk.length;
  }

  private failWaiting(err: Error): void {
    for (const waiting of this.waiting.splice(0)) waiting.reject(err);
  }
}
