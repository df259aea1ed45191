import type { Logger } from '../plugin/types.js';

/** Log levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** A log record, as written to JSONL sinks. */
export interface LogRecord {
  time: string;
  level: Exclude<LogLevel, 'silent'>;
  scope: string;
  msg: string;
  data?: Record<string, unknown>;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level?: LogLevel;
  /** Where records go; default: stderr, human-readable. */
  sink?: (rec: LogRecord) => void;
}

/** Human-readable sink on stderr (keeps stdout clean for `--json` output). */
export function stderrSink(rec: LogRecord): void {
  const extra = rec.data && Object.keys(rec.data).length ? ' ' + JSON.stringify(rec.data) : '';
  process.stderr.write(`[${rec.scope}] ${rec.level === 'info' ? '' : rec.level + ': '}${rec.msg}${extra}\n`);
}

/** Create a logger. `DISTILLERY_LOG_LEVEL` overrides the default level. */
export function createLogger(scope = 'distillery', opts: LoggerOptions = {}): Logger {
  const level: LogLevel = opts.level ?? (process.env.DISTILLERY_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const sink = opts.sink ?? stderrSink;
  const emit = (lv: Exclude<LogLevel, 'silent'>, msg: string, data?: Record<string, unknown>) => {
    if (ORDER[lv] < ORDER[level]) return;
    sink({ time: new Date().toISOString(), level: lv, scope, msg, ...(data ? { data } : {}) });
  };
  return {
    debug: (m, d) => emit('debug', m, d),
    info: (m, d) => emit('info', m, d),
    warn: (m, d) => emit('warn', m, d),
    error: (m, d) => emit('error', m, d),
    child: (name) => createLogger(`${scope}:${name}`, { level, sink }),
  };
}

/** A logger that drops everything (tests, conformance). */
export const silentLogger: Logger = createLogger('silent', { level: 'silent' });
