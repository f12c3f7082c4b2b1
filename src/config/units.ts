import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** `"250ms"`, `"30s"`, `"5m"`, `"1h"`, `"1h30m"`, or a number of milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return input;
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    consumed = re.lastIndex;
  }
  if (consumed !== text.length || text.length === 0) throw new Error(`not a duration: "${input}" (use e.g. 500ms, 30s, 5m, 1h)`);
  return total;
}

/** `"10MiB"`, `"512KB"`, `"1GiB"`, or a number of bytes. */
export function parseByteSize(input: string | number): number {
  if (typeof input === 'number') return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  const unit = m ? SIZE_UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a size: "${input}" (use e.g. 512KiB, 10MiB, 1GiB)`);
  return Math.round(Number(m[1]) * unit);
}

function unitSchema(parse: (v: string | number) => number, what: string) {
  return z
    .union([z.number().nonnegative(), z.string()])
    .transform((value, ctx) => {
      try {
        return parse(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .meta({ description: what });
}

/** A duration field: accepts `"30s"`-style strings or milliseconds; yields milliseconds. */
export const duration = () => unitSchema(parseDuration, 'A duration such as 500ms, 30s, 5m or 1h (a bare number is milliseconds).');
/** A size field: accepts `"10MiB"`-style strings or bytes; yields bytes. */
export const byteSize = () => unitSchema(parseByteSize, 'A size such as 512KiB, 10MiB or 1GiB (a bare number is bytes).');
