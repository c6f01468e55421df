import pino from 'pino';
import { requestScope } from './requestScope.js';

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
});

export type Logger = typeof logger;
