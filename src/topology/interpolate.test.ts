import { describe, expect, it } from 'vitest';
import { interpolateEnv } from './interpolate.js';

describe('interpolateEnv', () => {
  it('replaces set variables and falls back to defaults', () => {
    const { text, problems } = interpolateEnv('a: ${A}\nb: ${B:-7}\nc: ${C:-x}', { A: 'one', C: 'three' });
    expect(problems).toEqual([]);
    expect(text).toBe('a: one\nb: 7\nc: three');
  });

  it('treats an empty variable as unset, so the default applies', () => {
    expect(interpolateEnv('x: ${E:-d}', { E: '' }).text).toBe('x: d');
  });

  it('keeps $${ as a literal ${', () => {
    expect(interpolateEnv('x: $${NOT}', {}).text).toBe('x: ${NOT}');
  });

  it('reports an unset variable without default on its line', () => {
    const { problems } = interpolateEnv('a: 1\nb: ${MISSING}\n', {});
    expect(problems).toEqual([expect.objectContaining({ line: 2, message: expect.stringContaining('MISSING is not set') })]);
  });

  it('refuses values with line breaks, which would shift line numbers', () => {
    const { problems } = interpolateEnv('a: ${X}', { X: 'one\ntwo' });
    expect(problems[0].message).toMatch(/line break/);
  });
});
