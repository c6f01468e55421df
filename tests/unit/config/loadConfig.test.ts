import { ConfigError, loadConfig } from '../../../src/config/loadConfig.js';

const quiet = { warn: () => {} };
const production = { NODE_ENV: 'production', ISSUER: 'https://login.onedoor.example', SMTP_URL: 'smtp://mail.example' };

test('when NODE_ENV=production and PROOFING_VENDOR is not set, then OneDoor refuses to start with one line naming the variable', () => {
  let error: unknown;
  try { loadConfig(production, quiet); } catch (err) { error = err; }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as Error).message).toMatch(/^PROOFING_VENDOR: must be set when NODE_ENV=production; [^\n]+PROOFING_VENDOR=sandbox[^\n]*$/);
});

test('when NODE_ENV=production and PROOFING_VENDOR=sandbox is set explicitly, then it starts with the sandbox', () => {
  expect(loadConfig({ ...production, PROOFING_VENDOR: 'sandbox' }, quiet).proofingVendor).toBe('sandbox');
});

test('when not in production, then the sandbox stays the default', () => {
  expect(loadConfig({}, quiet).proofingVendor).toBe('sandbox');
  expect(loadConfig({ NODE_ENV: 'test' }, quiet).proofingVendor).toBe('sandbox');
});

test('when OUTBOX_RETENTION_HOURS is unset, then messages are kept 24 hours; a whole number of hours from 1 to 8760 is taken, anything else refused naming the variable', () => {
  expect(loadConfig({}, quiet).outboxRetentionHours).toBe(24);
  expect(loadConfig({ OUTBOX_RETENTION_HOURS: '1' }, quiet).outboxRetentionHours).toBe(1);
  expect(loadConfig({ OUTBOX_RETENTION_HOURS: '8760' }, quiet).outboxRetentionHours).toBe(8760);
  for (const bad of ['0', '-1', '1.5', 'abc', '8761', '']) {
    expect(() => loadConfig({ OUTBOX_RETENTION_HOURS: bad }, quiet)).toThrow(new RegExp(`^OUTBOX_RETENTION_HOURS: `));
  }
  expect(() => loadConfig({ PROOFING_VENDOR: 'acme' }, quiet)).toThrow(/^PROOFING_VENDOR: PROOFING_VENDOR must be one of: sandbox$/);
});
