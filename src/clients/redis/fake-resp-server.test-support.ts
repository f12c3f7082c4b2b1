import net from 'node:net';
import { decodeCompleteCommands } from './resp.test-support.js';

export interface FakeConn {
  index: number;
  socket: net.Socket;
  /** Commands received so far, decoded. */
  commands: string[][];
  /** Bytes of a command not all received yet. */
  pending: Buffer;
  closed: boolean;
  /**
   * Whether the client's handshake is in: it ends with the first PING on the connection (AUTH,
   * SELECT, CLIENT SETNAME before it as the URL asks), the client sends nothing else before ready,
   * so commands after it are the caller's. Still false while `onCommand` sees that PING.
   */
  handshaken: boolean;
}

/** Bytes to answer with; undefined: no answer (yet). */
export type Reply = string | Buffer | undefined;

/**
 * A scripted stand-in for redis-server: it decodes the commands it receives (the tests' strict
 * decoder, not the client's parser) and answers each with what `onCommand` returns (nothing for
 * undefined).
 */
export class FakeRedis {
  readonly conns: FakeConn[] = [];
  onCommand: (command: string[], conn: FakeConn) => Reply = defaultReply;
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

  /** A URL to this server; `rest` is what follows host:port, or credentials ending in `@` and then the rest. */
  url(rest = ''): string {
    return rest.includes('@') ? `redis://${rest.replace('@', `@127.0.0.1:${this.port}`)}` : `redis://127.0.0.1:${this.port}${rest}`;
  }

  async stop(): Promise<void> {
    for (const conn of this.conns) conn.socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const conn: FakeConn = { index: this.conns.length, socket, commands: [], pending: Buffer.alloc(0), closed: false, handshaken: false };
    this.conns.push(conn);
    socket.on('error', () => undefined);
    socket.on('close', () => (conn.closed = true));
    socket.on('data', (chunk: Buffer) => {
      const received = Buffer.concat([conn.pending, chunk]);
      const { commands, rest } = decodeCompleteCommands(received);
      conn.pending = received.subarray(rest);
      for (const args of commands) {
        const command = args.map((arg) => arg.toString('latin1'));
        conn.commands.push(command);
        const reply = this.onCommand(command, conn);
        if (reply !== undefined && !socket.destroyed) socket.write(reply);
        if (command[0].toUpperCase() === 'PING') conn.handshaken = true;
      }
    });
  }
}

/** What redis-server answers to the handshake's commands and to ECHO; an error to anything else. */
export function defaultReply(command: string[]): Reply {
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
