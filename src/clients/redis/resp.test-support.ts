import { RESP, type RespReplies } from './resp-replies.js';

/** RESP written as text, one byte per character (\x00..\xff). */
export const bytes = (s: string) => Buffer.from(s, 'latin1');

/** Every value of `r` in reading order, written so a test can compare it at a glance. */
export function showReplies(r: RespReplies): string[] {
  const out: string[] = [];
  for (let i = 0; i < r.values; i++) {
    const type = r.types[i];
    if (type === RESP.array) out.push(r.starts[i] < 0 ? '*nil' : `*${r.starts[i]}`);
    else if (type === RESP.bulk) out.push(r.starts[i] < 0 ? '$nil' : `$${r.data.toString('latin1', r.starts[i], r.ends[i])}`);
    else out.push(String.fromCharCode(type) + r.data.toString('latin1', r.starts[i], r.ends[i]));
  }
  return out;
}

/**
 * RESP commands (arrays of bulk strings) back into their arguments (copies). Strict: anything
 * else, a length that does not match, or bytes left over throws, so a wrong header fails the test.
 */
export function decodeCommands(payload: Buffer): Buffer[][] {
  const { commands, rest } = decodeCompleteCommands(payload);
  if (rest < payload.length) throw new Error(`command at ${rest} cut short`);
  return commands;
}

/**
 * The commands complete at the front of `payload`, as decodeCommands reads them, and where the
 * rest starts (a command not all there yet: a server reading a stream waits for more).
 */
export function decodeCompleteCommands(payload: Buffer): { commands: Buffer[][]; rest: number } {
  const commands: Buffer[][] = [];
  let rest = 0;
  /** The number on the `<type><digits>` CRLF line at `at`, and where the line ends; undefined if not all there. */
  const line = (type: string, at: number): [number, number] | undefined => {
    if (at >= payload.length) return undefined;
    if (String.fromCharCode(payload[at]) !== type) throw new Error(`expected "${type}" at ${at}`);
    const end = payload.indexOf('\r\n', at);
    if (end < 0) return undefined;
    const text = payload.toString('latin1', at + 1, end);
    if (!/^(0|[1-9]\d*)$/.test(text)) throw new Error(`bad length "${text}" at ${at}`);
    return [Number(text), end + 2];
  };
  for (;;) {
    const head = line('*', rest);
    if (!head) return { commands, rest };
    let at = head[1];
    const command: Buffer[] = [];
    for (let i = 0; i < head[0]; i++) {
      const bulk = line('$', at);
      if (!bulk) return { commands, rest };
      const [length, start] = bulk;
      if (start + length + 2 > payload.length) return { commands, rest };
      if (payload.toString('latin1', start + length, start + length + 2) !== '\r\n') throw new Error(`bulk string at ${start} is not ${length} bytes`);
      command.push(Buffer.from(payload.subarray(start, start + length)));
      at = start + length + 2;
    }
    commands.push(command);
    rest = at;
  }
}
