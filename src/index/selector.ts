import { InvalidInputError } from '../errors.js';
import { assertSelective, createMatcher, METRIC_NAME_LABEL, type Matcher, type MatchType } from './matcher.js';
import { readStringLiteral, selectorSyntaxError } from './string-literal.js';

/**
 * Parses a series selector as sent in `match[]`: `up`, `up{job="x"}`, `{__name__=~".+"}`, and the
 * Prometheus 3 quoted forms `{"my.metric", "a.b"="c"}` (a bare string inside the braces is the metric
 * name). Matchers come back in the order written. Errors are `InvalidInputError`s naming the
 * problem and its 1-based column; like Prometheus, a selector whose matchers all match the empty
 * string is refused.
 */
export function parseSeriesSelector(input: string): Matcher[] {
  const reader = new SelectorReader(input);
  const matchers = reader.readSelector();
  try {
    assertSelective(matchers, 'vector selector');
  } catch (err) {
    throw err instanceof InvalidInputError ? selectorSyntaxError(input, 0, err.details[0].reason) : err;
  }
  return matchers;
}

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const MATCH_OPERATOR = /=~|!~|!=|=/y;
const QUOTES = new Set(['"', "'", '`']);

class SelectorReader {
  private pos = 0;
  /** The metric name was given before the braces or as a bare string inside them. */
  private metricNameGiven = false;
  /** A `__name__` matcher was given inside the braces. */
  private nameMatcherGiven = false;

  constructor(private readonly input: string) {}

  readSelector(): Matcher[] {
    this.skipSpace();
    const matchers: Matcher[] = [];
    const metricName = this.readToken(METRIC_NAME);
    if (metricName !== undefined) {
      matchers.push(createMatcher('=', METRIC_NAME_LABEL, metricName));
      this.metricNameGiven = true;
      this.skipSpace();
    }
    if (this.input[this.pos] === '{') {
      this.pos += 1;
      matchers.push(...this.readMatcherList());
    } else if (metricName === undefined) {
      throw this.fail(this.pos, `expected a metric name or "{" but found ${this.describeHere()}`);
    }
    this.skipSpace();
    if (this.pos < this.input.length) throw this.fail(this.pos, `unexpected ${this.describeHere()}`);
    return matchers;
  }

  /** Reads `a="b", "c.d"=~"e", "metric.name"}` (the `{` is already consumed). */
  private readMatcherList(): Matcher[] {
    const matchers: Matcher[] = [];
    for (;;) {
      this.skipSpace();
      if (this.input[this.pos] === '}') {
        this.pos += 1;
        return matchers;
      }
      matchers.push(this.readMatcher());
      this.skipSpace();
      const separator = this.input[this.pos];
      if (separator === ',') {
        this.pos += 1;
      } else if (separator === '}') {
        this.pos += 1;
        return matchers;
      } else {
        throw this.fail(this.pos, `expected "," or "}" but found ${this.describeHere()}`);
      }
    }
  }

  private readMatcher(): Matcher {
    const start = this.pos;
    let name: string;
    if (QUOTES.has(this.input[this.pos])) {
      const literal = readStringLiteral(this.input, this.pos);
      this.pos = literal.end;
      this.skipSpace();
      if (!this.atOperator()) return this.metricNameInBraces(literal.value, start);
      if (literal.value === '') throw this.fail(start, 'label name must not be empty');
      name = literal.value;
    } else {
      const identifier = this.readToken(LABEL_NAME);
      if (identifier === undefined) throw this.fail(this.pos, `expected a label name but found ${this.describeHere()}`);
      name = identifier;
      this.skipSpace();
    }
    if (name === METRIC_NAME_LABEL) this.noteMetricName(start, 'matcher');
    const operator = this.readToken(MATCH_OPERATOR) as MatchType | undefined;
    if (operator === undefined) {
      throw this.fail(this.pos, `expected one of "=", "!=", "=~", "!~" but found ${this.describeHere()}`);
    }
    this.skipSpace();
    const valueStart = this.pos;
    if (!QUOTES.has(this.input[this.pos])) {
      throw this.fail(this.pos, `expected a quoted string but found ${this.describeHere()}`);
    }
    const literal = readStringLiteral(this.input, this.pos);
    this.pos = literal.end;
    try {
      return createMatcher(operator, name, literal.value);
    } catch (err) {
      if (err instanceof InvalidInputError) throw this.fail(valueStart, err.message);
      throw err;
    }
  }

  /** `{"my.metric"}`: a bare string inside the braces is the metric name (Prometheus 3). */
  private metricNameInBraces(name: string, start: number): Matcher {
    if (name === '') throw this.fail(start, 'metric name must not be empty');
    this.noteMetricName(start, 'bare');
    return createMatcher('=', METRIC_NAME_LABEL, name);
  }

  /**
   * The metric name may be given once: before the braces or bare inside them, and then not also as a
   * `__name__` matcher. Several explicit `__name__` matchers are allowed (they AND), as in Prometheus.
   */
  private noteMetricName(start: number, form: 'bare' | 'matcher'): void {
    if (this.metricNameGiven || (form === 'bare' && this.nameMatcherGiven)) {
      throw this.fail(start, 'metric name must not be set twice');
    }
    if (form === 'bare') this.metricNameGiven = true;
    else this.nameMatcherGiven = true;
  }

  private atOperator(): boolean {
    MATCH_OPERATOR.lastIndex = this.pos;
    return MATCH_OPERATOR.test(this.input);
  }

  private readToken(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.pos;
    const match = pattern.exec(this.input);
    if (!match) return undefined;
    this.pos += match[0].length;
    return match[0];
  }

  private skipSpace(): void {
    while (' \t\n\r'.includes(this.input[this.pos] ?? 'x')) this.pos += 1;
  }

  private describeHere(): string {
    if (this.pos >= this.input.length) return 'end of input';
    return JSON.stringify(String.fromCodePoint(this.input.codePointAt(this.pos)!));
  }

  private fail(offset: number, reason: string): InvalidInputError {
    return selectorSyntaxError(this.input, offset, reason);
  }
}
