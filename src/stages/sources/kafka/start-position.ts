import { z } from 'zod';

export type StartPosition =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'timestamp'; timestamp: number }
  | { kind: 'offsets'; offsets: Map<number, string> };

/** `earliest`, `latest`, an RFC 3339 time, or `partition:offset` pairs separated by commas. */
export function parseStartPosition(text: string): StartPosition {
  if (text === 'earliest' || text === 'latest') return { kind: text };
  if (/^\d+:\d+(\s*,\s*\d+:\d+)*$/.test(text)) {
    return { kind: 'offsets', offsets: new Map(text.split(',').map((pair) => pair.trim().split(':')).map(([p, o]) => [Number(p), o])) };
  }
  const timestamp = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(timestamp)) return { kind: 'timestamp', timestamp };
  throw new Error(`not a start position: "${text}" (earliest, latest, an RFC 3339 time, or offsets like 0:1200,1:900)`);
}

export const startPositionSchema = z
  .string()
  .default('earliest')
  .superRefine((value, ctx) => {
    try {
      parseStartPosition(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
