// Structured logs: one JSON object a line with --log-format json, readable text otherwise.

export type LogFields = Record<string, unknown>;
export type LogFn = (msg: string, fields?: LogFields) => void;

export interface Logger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
  with(component: string): Logger;
}

export function createLogger(format: 'text' | 'json' = 'text', opts: { verbose?: boolean; component?: string; out?: NodeJS.WritableStream } = {}): Logger {
  const out = opts.out ?? process.stderr;
  const emit = (level: string, msg: string, fields?: LogFields) => {
    if (level === 'debug' && !opts.verbose) return;
    const ts = new Date().toISOString();
    if (format === 'json') {
      out.write(JSON.stringify({ ts, level, ...(opts.component ? { component: opts.component } : {}), msg, ...fields }) + '\n');
      return;
    }
    const f = fields
      ? Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
          .join(' ')
      : '';
    out.write(`${ts} ${level.toUpperCase().padEnd(5)} ${opts.component ? `[${opts.component}] ` : ''}${msg}${f ? ' ' + f : ''}\n`);
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    debug: (m, f) => emit('debug', m, f),
    with: (component) => createLogger(format, { ...opts, component }),
  };
}

export const silentLogger: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
  debug: () => {},
  with: () => silentLogger,
};
