import { METRIC_NAME_LABEL } from './matcher.js';
import type { LabelSet } from './series-index.js';

/**
 * Reads the labels back from a series key (`seriesKey` in series/canonical.ts), which is
 * what the index stores of a series: `name{a="b",…}`, or `{"name",a="b",…}` when the metric name
 * is not a legacy identifier; label names are quoted when not legacy identifiers; quoted strings
 * escape backslash, double quote and line feed. `__name__` comes first in the result.
 */
export function labelSetFromKey(key: string): LabelSet {
  // No prototype: label names such as `__proto__` or `constructor` are plain keys, and a missing
  // name reads as undefined rather than an inherited property.
  const labels: LabelSet = Object.create(null) as LabelSet;
  let at = 0;
  const fail = (): never => {
    throw new Error(`not a series key: ${key.length > 200 ? `${key.slice(0, 200)}…` : key}`);
  };
  const quoted = (): string => {
    if (key[at] !== '"') fail();
    let text = '';
    let from = ++at;
    for (;;) {
      const c = key.charCodeAt(at);
      if (Number.isNaN(c)) fail();
      if (c === 0x22) break; // "
      if (c === 0x5c) {
        text += key.slice(from, at);
        const escaped = key[at + 1];
        text += escaped === 'n' ? '\n' : escaped === '\\' || escaped === '"' ? escaped : fail();
        at += 2;
        from = at;
      } else at++;
    }
    text += key.slice(from, at++);
    return text;
  };
  const brace = key.indexOf('{');
  if (brace < 0 || !key.endsWith('}')) fail();
  if (brace > 0) labels[METRIC_NAME_LABEL] = key.slice(0, brace);
  at = brace + 1;
  let first = true;
  const pairs: Array<[string, string]> = [];
  while (key[at] !== '}' || at !== key.length - 1) {
    if (!first) {
      if (key[at] !== ',') fail();
      at++;
    }
    let name: string;
    if (key[at] === '"') {
      name = quoted();
      if (first && brace === 0 && key[at] !== '=') {
        labels[METRIC_NAME_LABEL] = name; // `{"my.metric",…}`
        first = false;
        continue;
      }
    } else {
      const equals = key.indexOf('=', at);
      if (equals < 0) fail();
      name = key.slice(at, equals);
      at = equals;
    }
    if (key[at] !== '=') fail();
    at++;
    pairs.push([name, quoted()]);
    first = false;
  }
  for (const [name, value] of pairs) labels[name] = value;
  return labels;
}
