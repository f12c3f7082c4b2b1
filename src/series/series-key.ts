import type { Label } from '../remote-write/types.js';
import { isLegacyLabelName, isLegacyMetricName } from './validation.js';

/** A double-quoted string with Prometheus' escaping (backslash, double quote, line feed). */
export function quoteLabelValue(value: string): string {
  // Almost no value needs escaping: test once instead of running three replaces on every value.
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
const NEEDS_ESCAPE = /[\\"\n]/;

/**
 * `name{a="b",c="d"}` as PromQL writes a selector; names that are not legacy identifiers are
 * quoted, as Prometheus 3 does for UTF-8 names (`{"my.metric","a.b"="c"}`).
 */
export function seriesKey(sortedLabels: readonly Label[]): string {
  let metric = '';
  const parts: string[] = [];
  for (const l of sortedLabels) {
    if (l.name === '__name__') {
      metric = l.value;
      continue;
    }
    const name = isLegacyLabelName(l.name) ? l.name : quoteLabelValue(l.name);
    parts.push(`${name}=${quoteLabelValue(l.value)}`);
  }
  if (metric !== '' && !isLegacyMetricName(metric)) return `{${[quoteLabelValue(metric), ...parts].join(',')}}`;
  return `${metric}{${parts.join(',')}}`;
}
