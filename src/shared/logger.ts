import pino from 'pino';
import { requestScope } from './requestScope.js';

/**
 * Lines are written in batches: at 4 KB, at least once a second, and at exit (normal exit,
 * process.exit, or after SIGTERM's shutdown), instead of one write system call per line (a
 * third of a token request's syscalls in `npm run bench`). A process killed outright (SIGKILL,
 * out of memory) loses at most the last second's lines (docs/operators.md: Logs).
 */
export const LOG_FLUSH_MS = 1000;
const destination = pino.destination({ dest: 1, minLength: 4096, sync: false });
setInterval(() => { try { destination.flush(); } catch { /* closed at exit */ } }, LOG_FLUSH_MS).unref();
process.on('exit', () => { try { destination.flushSync(); } catch { /* nothing buffered or already closed */ } });

/**
 * Structured JSON logs, one object per line on stdout. Fields that could carry PII, secrets or
 * tokens are redacted at the source; callers log ids and codes, never values people typed.
 * Every line written while serving a request carries that request's `requestId`.
 */
export const logger = pino({
  level: 'info', // set from config (LOG_LEVEL) at start-up; src/config is the only reader of the environment
  base: { service: 'onedoor' },
  timestamp: pino.stdTimeFunctions.isoTime,
  mixin: () => {
    const scope = requestScope.getStore();
    return scope ? { requestId: scope.requestId } : {};
  },
  redact: {
    paths: [
      'email', '*.email', 'token', '*.token', 'password', '*.password',
      'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
      'body', '*.body', 'payload', '*.payload', 'secret', '*.secret',
    ],
    censor: '[redacted]',
  },
}, destination);

export type Logger = typeof logger;
