import { map } from 'rxjs';
import { z } from 'zod';
import { InvalidInputError } from '../../errors.js';
import { SeriesCanonicalizer } from '../../series/canonicalize.js';
import { DEFAULT_SERIES_RULES, type SeriesRules } from '../../series/validation.js';
import type { WriteRequest } from '../../remote-write/types.js';
import { defineProcessor } from '../../topology/declaration.js';
import type { Message } from '../../runtime/message.js';

export const canonicalizeConfig = z.strictObject({
  name_validation: z.enum(['legacy', 'utf8']).default(DEFAULT_SERIES_RULES.nameValidation).describe('legacy: metric names match [a-zA-Z_:][a-zA-Z0-9_:]* and label names [a-zA-Z_][a-zA-Z0-9_]* (Prometheus 2). utf8: any non-empty UTF-8 name (Prometheus 3).'),
  max_labels_per_series: z.number().int().min(1).max(10_000).default(DEFAULT_SERIES_RULES.maxLabelsPerSeries).describe('A series with more labels (after dropping empty values) is invalid.'),
  max_label_name_length: z.number().int().min(1).default(DEFAULT_SERIES_RULES.maxLabelNameLength).describe('Longest label name, in UTF-16 code units.'),
  max_label_value_length: z.number().int().min(1).default(DEFAULT_SERIES_RULES.maxLabelValueLength).describe('Longest label value, in UTF-16 code units.'),
  on_invalid: z.enum(['reject', 'drop']).default('reject').describe('reject: valid series are still delivered, and the request is answered 400 naming each invalid series and why (as Prometheus itself answers). drop: invalid series are counted in metrics and dropped; the request succeeds.'),
  max_reported_errors: z.number().int().min(1).default(10).describe('How many invalid series a 400 response lists by name.'),
  label_cache_mib: z.number().int().min(0).max(2048).default(64).describe('Memory for remembering the raw label bytes of series already found valid, with their hash, so a known series is not decoded, sorted, validated and hashed again (MiB, at most 2048: the cache addresses its bytes with 32-bit offsets; 0 turns it off). About 200 bytes per series; when full, the least recently seen half is forgotten.'),
});
export type CanonicalizeConfig = z.output<typeof canonicalizeConfig>;

export const canonicalize = defineProcessor({
  kind: 'transform',
  type: 'canonicalize',
  summary: 'Sorts and validates labels, drops empty values, and gives each series its canonical key and 64-bit hash.',
  stability: 'stable',
  examples: [
    {
      title: 'Prometheus 2 name rules; a request with invalid series is answered 400 naming them',
      yaml: `
        - type: canonicalize`,
    },
    {
      title: 'Prometheus 3 UTF-8 names; invalid series are counted and dropped, the request succeeds',
      yaml: `
        - type: canonicalize
          name_validation: utf8
          on_invalid: drop
          max_labels_per_series: 48`,
    },
  ],
  accepts: 'WriteRequest',
  emits: 'SeriesBatch',
  config: canonicalizeConfig,
  create(config) {
    const canonicalizer = new SeriesCanonicalizer(seriesRules(config), { labelCacheBytes: config.label_cache_mib * 2 ** 20 });
    return map((msg: Message<WriteRequest>) => {
      const { batch, invalid } = canonicalizer.canonicalize(msg.payload, Date.now());
      if (invalid.length > 0 && config.on_invalid === 'reject') {
        msg.delivery.rejected.push(...invalid.slice(0, config.max_reported_errors - msg.delivery.rejected.length));
        if (batch.series.length === 0 && batch.metadata.length === 0) {
          throw new InvalidInputError(`${invalid.length} invalid series`, invalid.slice(0, config.max_reported_errors));
        }
      }
      return msg.with(batch);
    });
  },
});

function seriesRules(config: CanonicalizeConfig): SeriesRules {
  return {
    nameValidation: config.name_validation,
    maxLabelsPerSeries: config.max_labels_per_series,
    maxLabelNameLength: config.max_label_name_length,
    maxLabelValueLength: config.max_label_value_length,
  };
}
