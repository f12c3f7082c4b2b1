import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = LevelWithSilent;

/** Structured JSON logs on stdout (one line per event), as log shippers expect. */
export function createLogger(options: { level?: LogLevel; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'weir',
    level: options.level ?? 'info',
    base: { service: 'weir' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** A logger that writes nothing, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
