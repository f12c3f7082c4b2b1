import type { Label, Sample } from '../remote-write/types.js';

/**
 * What the remote_write sink carries: one series' samples, with the labels already canonical
 * (sorted by name, no empty value) and the series hash as uint32 halves, so routing a series to its
 * shard needs no BigInt. A batch is an array of these (one Kafka record's worth, or one request's).
 */
export interface SeriesSamples {
  labels: Label[];
  /** High and low 32 bits of the series hash (`hashHigh`/`hashLow` of `src/series/canonical.ts`). */
  hashHi: number;
  hashLo: number;
  /** In time order; a series' samples reach the receiver in this order. */
  samples: Sample[];
}

/** Encodes series into one uncompressed remote-write request body (1.0 `WriteRequest` or 2.0 `Request`). */
export type EncodeRequest = (series: readonly SeriesSamples[]) => Uint8Array;

/**
 * Sends one encoded body. Resolves on 2xx; rejects with an error whose `retriable` says whether
 * sending the same body again may succeed (`RemoteWriteError` from the HTTP client).
 */
export type SendRequest = (body: Uint8Array) => Promise<void>;

/** Samples the receiver refused for good (or that ran out of retries), for the failure queue. */
export interface PermanentFailure {
  series: SeriesSamples[];
  error: unknown;
}
