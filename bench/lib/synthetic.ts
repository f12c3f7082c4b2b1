import { compressSnappy } from '../../src/remote-write/index.js';
import { encodeWriteRequestV1, encodeWriteRequestV2 } from '../../src/remote-write/reference-codec.test-support.js';
import type { RemoteWriteVersion, TimeSeries } from '../../src/remote-write/types.js';
import type { Payload } from './loadgen.js';
import { REMOTE_WRITE_HEADERS } from './payloads.js';
import { syntheticLabels } from './synthetic-series.js';

/**
 * Synthetic remote-write bodies for what the corpus cannot show: high cardinality and churn. A
 * pool of `series` distinct series is sent round and round; a share of each request's series is
 * new (never sent before by this generator), as pods come and go. Label sets are those of
 * synthetic-series.ts (a fleet of scraped targets), so every bench speaks of the same series.
 */

export interface SyntheticOptions {
  /** Distinct series in the pool that known series are taken from (0 when every series is new). */
  series: number;
  /** Series per request (the corpus' Prometheus 2.42 sent up to 500 samples per request). */
  perRequest: number;
  /** Share (0..1) of each request's series that are new. */
  newShare: number;
  /** Bodies to pre-encode. */
  requests: number;
  version: RemoteWriteVersion;
  /** The `cluster` label of every series: generators with different salts share no series. */
  salt?: string;
  /** Sample timestamp (ms); each request is 1 s later than the previous one. */
  startTimestamp?: number;
}

/** Pre-encodes `requests` bodies (protobuf, then snappy), before anything is measured. */
export function syntheticPayloads(options: SyntheticOptions): Payload[] {
  const { series, perRequest, newShare, requests, version, salt = 'bench' } = options;
  if (!(newShare >= 0 && newShare <= 1)) throw new Error(`newShare must be within 0..1, got ${newShare}`);
  const newPerRequest = series === 0 ? perRequest : Math.round(perRequest * newShare);
  let known = 0;
  // New series continue after the pool, so they are distinct from it and from each other.
  let fresh = series;
  let timestamp = options.startTimestamp ?? Date.now();
  const payloads: Payload[] = [];
  for (let r = 0; r < requests; r++, timestamp += 1000) {
    const timeseries: TimeSeries[] = [];
    for (let s = 0; s < perRequest; s++) {
      let i: number;
      if (s < newPerRequest) {
        i = fresh++;
      } else {
        i = known;
        known = (known + 1) % series;
      }
      timeseries.push({ labels: syntheticLabels(i, salt), samples: [{ value: i % 1000, timestamp }], exemplars: [], histograms: [] });
    }
    const encoded = version === '1.0' ? encodeWriteRequestV1({ version, timeseries, metadata: [] }) : encodeWriteRequestV2({ version, timeseries, metadata: [] });
    payloads.push({ body: compressSnappy(encoded), headers: REMOTE_WRITE_HEADERS[version], samples: perRequest, series: perRequest, name: `synthetic-${r}` });
  }
  return payloads;
}
