import { vi } from 'vitest';
import { decodeWriteRequestV1Reference, encodeWriteRequestV1 } from '../remote-write/reference-codec.test-support.js';
import { RemoteWriteError } from './remote-write-error.js';
import type { EncodeRequest, SeriesSamples } from './types.js';

/** Series `id` with samples at `timestamps`; its hash's low half is `id`, so it goes to shard `id % shards`. */
export function series(id: number, ...timestamps: number[]): SeriesSamples {
  return {
    labels: [{ name: '__name__', value: 'm' }, { name: 'id', value: String(id) }],
    hashHi: 7,
    hashLo: id,
    samples: timestamps.map((timestamp) => ({ timestamp, value: timestamp / 10 })),
  };
}

/** The protobufjs reference encoder, until the hand-written one exists. */
export const encodeV1: EncodeRequest = (list) =>
  encodeWriteRequestV1({ version: '1.0', timeseries: list.map((s) => ({ labels: s.labels, samples: s.samples, exemplars: [], histograms: [] })), metadata: [] });

export interface ReceivedRequest {
  /** [series id, timestamp] per sample, in request order. */
  samples: Array<[number, number]>;
  /** Date.now() when it arrived (fake time in tests). */
  at: number;
}

/**
 * A receiver behind the SendRequest interface: decodes each body, asks `answer` what to do with it
 * (return, throw, or a promise the test settles), and keeps the requests it accepted.
 */
export function fakeReceiver(answer: (request: ReceivedRequest, call: number) => void | Promise<void> = () => undefined) {
  const accepted: ReceivedRequest[] = [];
  const calls: ReceivedRequest[] = [];
  const send = async (body: Uint8Array) => {
    const decoded = decodeWriteRequestV1Reference(body);
    const samples = decoded.timeseries.flatMap((s) => s.samples.map((x): [number, number] => [Number(s.labels[1].value), x.timestamp]));
    const request = { samples, at: Date.now() };
    calls.push(request);
    await answer(request, calls.length);
    accepted.push(request);
  };
  /** Timestamps each series received, in arrival order. */
  const bySeries = () => {
    const out = new Map<number, number[]>();
    for (const r of accepted) for (const [id, t] of r.samples) out.set(id, [...(out.get(id) ?? []), t]);
    return out;
  };
  return { send, accepted, calls, bySeries };
}

export const retriable = (status = 503, retryAfterMs?: number) => new RemoteWriteError(`HTTP ${status}`, { retriable: true, status, retryAfterMs });
export const refused = (status = 400) => new RemoteWriteError(`HTTP ${status}`, { retriable: false, status, answer: 'bad sample' });

/** 'pending', 'resolved' or 'rejected', once pending callbacks ran (fake timers on). */
export async function state(promise: Promise<unknown>): Promise<string> {
  let result = 'pending';
  promise.then(() => (result = 'resolved'), () => (result = 'rejected'));
  await vi.advanceTimersByTimeAsync(0);
  return result;
}

/** Lets fake time run, 10 ms at a time, until `promise` settles (as a caller awaiting it would). */
export async function advanceUntilSettled(promise: Promise<unknown>): Promise<void> {
  for (let waited = 0; (await state(promise)) === 'pending'; waited += 10) {
    if (waited > 600_000) throw new Error('still pending after 10 minutes of fake time');
    await vi.advanceTimersByTimeAsync(10);
  }
}
