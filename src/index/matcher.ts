import { InvalidInputError } from '../errors.js';
import { compileAnchoredRegex } from './re2-regex.js';

/** The label name Prometheus stores the metric name under. */
export const METRIC_NAME_LABEL = '__name__';

export type MatchType = '=' | '!=' | '=~' | '!~';

/**
 * A Prometheus label matcher. A series that lacks the label is treated as having the value `""`,
 * so a matcher that matches the empty string also matches series without that label.
 */
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  /** The value or regex as written (unanchored). */
  readonly value: string;
  matches(value: string): boolean;
}

/** Builds a matcher; an invalid regex is an `InvalidInputError` (HTTP 400). */
export function createMatcher(type: MatchType, name: string, value: string): Matcher {
  if (name === '') throw new InvalidInputError('label name must not be empty', [{ where: 'matcher', reason: 'empty label name' }]);
  switch (type) {
    case '=':
      return { type, name, value, matches: (v) => v === value };
    case '!=':
      return { type, name, value, matches: (v) => v !== value };
    case '=~': {
      const regex = compileAnchoredRegex(value);
      return { type, name, value, matches: (v) => regex.test(v) };
    }
    case '!~': {
      const regex = compileAnchoredRegex(value);
      return { type, name, value, matches: (v) => !regex.test(v) };
    }
  }
}

/** Whether a label set (missing labels read as `""`) satisfies every matcher. */
export function labelSetMatches(matchers: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => m.matches(Object.hasOwn(labels, m.name) ? labels[m.name] : ''));
}

/**
 * Like Prometheus, refuse a selector whose matchers all match the empty string: it would select
 * every series in the index (`{a=""}`, `{a=~".*"}`, `{}`).
 */
export function assertSelective(matchers: readonly Matcher[], where: string): void {
  if (matchers.some((m) => !m.matches(''))) return;
  const reason = 'a selector must contain at least one matcher that does not match the empty string';
  throw new InvalidInputError(`${where}: ${reason}`, [{ where, reason }]);
}
