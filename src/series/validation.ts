import type { Label } from '../remote-write/types.js';

/** What makes a series valid: its names, and limits on its labels. */
export interface SeriesRules {
  /** legacy: Prometheus 2 names (see isLegacyMetricName, isLegacyLabelName). utf8: any non-empty UTF-8 name (Prometheus 3). */
  nameValidation: 'legacy' | 'utf8';
  /** Counted after empty values are dropped. */
  maxLabelsPerSeries: number;
  /** In UTF-16 code units. */
  maxLabelNameLength: number;
  maxLabelValueLength: number;
}

export const DEFAULT_SERIES_RULES: Readonly<SeriesRules> = Object.freeze({
  nameValidation: 'legacy',
  maxLabelsPerSeries: 64,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 4096,
});

/**
 * Why canonical labels (sorted, empty values dropped) break the rules, or undefined when they
 * are valid. The first problem found is the one named.
 */
export function validateLabels(sorted: Label[], rules: SeriesRules): string | undefined {
  if (sorted.length === 0) return 'no labels (every label value is empty)';
  if (sorted.length > rules.maxLabelsPerSeries) return `${sorted.length} labels, more than the limit of ${rules.maxLabelsPerSeries}`;
  for (let i = 0; i < sorted.length; i++) {
    const { name, value } = sorted[i];
    if (name === '') return 'empty label name';
    if (i > 0 && sorted[i - 1].name === name) return `duplicate label name "${name}"`;
    if (name.length > rules.maxLabelNameLength) return `label name "${name.slice(0, 64)}…" is longer than ${rules.maxLabelNameLength}`;
    if (value.length > rules.maxLabelValueLength) return `value of label "${name}" is longer than ${rules.maxLabelValueLength}`;
    if (rules.nameValidation === 'legacy') {
      if (name === '__name__') {
        if (validNames.metric.has(value)) continue;
        if (!isLegacyMetricName(value)) return `invalid metric name "${value}"`;
        rememberValid('metric', value);
      } else {
        if (validNames.legacy.has(name)) continue;
        if (!isLegacyLabelName(name)) return `invalid label name "${name}"`;
        rememberValid('legacy', name);
      }
    } else {
      if (!validNames.utf8.has(name)) {
        if (!isWellFormedUtf16(name)) return `label "${name}" is not valid UTF-8`;
        rememberValid('utf8', name);
      }
      if (!isWellFormedUtf16(value)) return `label "${name}" is not valid UTF-8`;
    }
  }
  return undefined;
}

/**
 * Names that passed validation: legacy label names, legacy metric names (kept apart: a metric name
 * is a label value) and UTF-8 names. They repeat across series and requests,
 * so each is checked by regex once; bounded so a flood of distinct names cannot grow it forever.
 */
const validNames = { legacy: new Set<string>(), metric: new Set<string>(), utf8: new Set<string>() };
const VALID_NAMES_MAX = 100_000;

function rememberValid(mode: keyof typeof validNames, key: string): void {
  const set = validNames[mode];
  if (set.size >= VALID_NAMES_MAX) set.clear();
  set.add(key);
}

const LEGACY_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isLegacyMetricName(name: string): boolean {
  return LEGACY_METRIC_NAME.test(name);
}
export function isLegacyLabelName(name: string): boolean {
  return LEGACY_LABEL_NAME.test(name);
}

/** Lone surrogates are what invalid UTF-8 decodes to (as U+FFFD) or what a 2.0 symbol could hold. */
function isWellFormedUtf16(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}
