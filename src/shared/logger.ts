import pino from 'pino';

/**
 * Structured JSON logs. Fields that could carry PII, secrets or tokens are redacted at the
 * source; callers log ids and codes, never values people typed.
 */
export const logger = pino({
  level: 'info', // set from config (LOG_LEVEL) at start-up; src/config is the only reader of the environment
  base: { service: 'onedoor' },
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
