import xxhash from 'xxhash-wasm';
import type { MetricMetadata } from '../remote-write/types.js';

const { h64Raw } = await xxhash();
const encoder = new TextEncoder();
const METADATA_SEED = 0x6d657461n; // "meta"

/** A metadata entry's identity within a batch: family, type, help and unit. */
export function metadataIdentity(m: MetricMetadata): string {
  return sharedMetadata.get(m)?.identity ?? `${m.metricFamilyName}\u0000${m.type}\u0000${m.help}\u0000${m.unit}`;
}

/**
 * Identity of a metadata entry, for dedup: xxHash64 with a seed of its own, so metadata ids live
 * apart from series ids in the same dedup tiers.
 */
export function metadataHash(m: MetricMetadata): bigint {
  return sharedMetadata.get(m)?.hash ?? h64Raw(encoder.encode(`${m.metricFamilyName}\xff${m.type}\xff${m.help}\xff${m.unit}`), METADATA_SEED);
}

/**
 * Metadata entries the codec decodes once and hands out again for the same bytes (senders repeat
 * the same entries every minute): their identity and hash are worked out once, here.
 */
const sharedMetadata = new WeakMap<MetricMetadata, { identity: string; hash: bigint }>();

export function shareMetadata(m: MetricMetadata): MetricMetadata {
  sharedMetadata.set(m, { identity: metadataIdentity(m), hash: metadataHash(m) });
  return m;
}
