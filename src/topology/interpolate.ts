import type { ConfigProblem } from '../errors.js';

/**
 * `${NAME}` and `${NAME:-default}` from the environment, `$${` for a literal `${`.
 * Done on the text before YAML parsing so a value can be any YAML scalar (a number, a list);
 * a value with a line break is refused, so line numbers in errors stay true.
 */
export function interpolateEnv(
  text: string,
  env: Record<string, string | undefined>,
): { text: string; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const lines = text.split('\n');
  const out = lines.map((line, index) =>
    line.replace(/\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (whole, escape: string, name: string, fallback?: string) => {
      if (escape) return whole.slice(1);
      const value = env[name] !== undefined && env[name] !== '' ? env[name]! : fallback;
      if (value === undefined) {
        problems.push({ path: '', line: index + 1, message: `environment variable ${name} is not set and has no default (write \${${name}:-default})` });
        return '';
      }
      if (/[\r\n]/.test(value)) {
        problems.push({ path: '', line: index + 1, message: `environment variable ${name} contains a line break` });
        return '';
      }
      return value;
    }),
  );
  return { text: out.join('\n'), problems };
}
