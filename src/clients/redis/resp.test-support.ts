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
  const commands: Buffer[][] = [];
  let at = 0;
  const line = (type: string): number => {
    if (String.fromCharCode(payload[at]) !== type) throw new Error(`expected "${type}" at ${at}`);
    const end = payload.indexOf('\r\n', at);
    if (end < 0) throw new Error(`unterminated line at ${at}`);
    const text = payload.toString('latin1', at + 1, end);
    if (!/^(0|[1-9]\d*)$/.test(text)) throw new Error(`bad length "${text}" at ${at}`);
    at = end + 2;
    return Number(text);
  };
  while (at < payload.length) {
    const n = line('*');
    const command: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const length = line('$');
      if (payload.toString('latin1', at + length, at + length + 2) !== '\r\n') throw new Error(`bulk string at ${at} is not ${length} bytes`);
      command.push(Buffer.from(payload.subarray(at, at + length)));
      at += length + 2;
    }
    commands.push(command);
  }
  return commands;
}
