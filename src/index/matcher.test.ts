import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { assertSelective, createMatcher, labelSetMatches } from './matcher.js';

describe('createMatcher', () => {
  it('implements the four match types', () => {
    expect(createMatcher('=', 'a', 'x').matches('x')).toBe(true);
    expect(createMatcher('=', 'a', 'x').matches('y')).toBe(false);
    expect(createMatcher('!=', 'a', 'x').matches('y')).toBe(true);
    expect(createMatcher('!=', 'a', 'x').matches('x')).toBe(false);
    expect(createMatcher('=~', 'a', 'x.*').matches('xyz')).toBe(true);
    expect(createMatcher('=~', 'a', 'x.*').matches('axyz')).toBe(false);
    expect(createMatcher('!~', 'a', 'x.*').matches('axyz')).toBe(true);
    expect(createMatcher('!~', 'a', 'x.*').matches('xyz')).toBe(false);
  });

  it('rejects an invalid regex and an empty label name', () => {
    expect(() => createMatcher('=~', 'a', '(')).toThrow(InvalidInputError);
    expect(() => createMatcher('!~', 'a', '[')).toThrow(InvalidInputError);
    expect(() => createMatcher('=', '', 'x')).toThrow(InvalidInputError);
  });
});

describe('labelSetMatches', () => {
  const labels = { __name__: 'up', job: 'api' };

  it('reads a missing label as the empty string', () => {
    expect(labelSetMatches([createMatcher('=', 'instance', '')], labels)).toBe(true);
    expect(labelSetMatches([createMatcher('=~', 'instance', 'a|')], labels)).toBe(true);
    expect(labelSetMatches([createMatcher('!=', 'instance', 'x')], labels)).toBe(true);
    expect(labelSetMatches([createMatcher('!=', 'instance', '')], labels)).toBe(false);
    expect(labelSetMatches([createMatcher('=~', 'instance', '.+')], labels)).toBe(false);
    expect(labelSetMatches([createMatcher('!~', 'instance', '.*')], labels)).toBe(false);
  });

  it('ANDs the matchers', () => {
    expect(labelSetMatches([createMatcher('=', 'job', 'api'), createMatcher('=', '__name__', 'up')], labels)).toBe(true);
    expect(labelSetMatches([createMatcher('=', 'job', 'api'), createMatcher('=', '__name__', 'down')], labels)).toBe(false);
  });

  it('does not read inherited object properties as labels', () => {
    expect(labelSetMatches([createMatcher('=', 'constructor', '')], labels)).toBe(true);
  });
});

describe('assertSelective', () => {
  it.each([
    [[createMatcher('=', 'a', '')]],
    [[createMatcher('=~', 'a', '.*')]],
    [[createMatcher('!=', 'a', 'x'), createMatcher('!~', 'b', 'y')]],
    [[]],
  ])('refuses matchers that all match the empty string: %#', (matchers) => {
    expect(() => assertSelective(matchers, 'match[] #1')).toThrow(/match\[\] #1: a selector must contain at least one matcher/);
  });

  it('accepts one matcher that does not match the empty string', () => {
    expect(() => assertSelective([createMatcher('=~', 'a', '.*'), createMatcher('!=', 'b', '')], 'x')).not.toThrow();
    expect(() => assertSelective([createMatcher('=~', 'a', '.+')], 'x')).not.toThrow();
  });
});
