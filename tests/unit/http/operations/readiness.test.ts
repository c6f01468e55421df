import { createReadiness } from '../../../../src/http/operations/readiness.js';

test('when every check passes, then the node is ready and each check says ok', async () => {
  const r = createReadiness({ checks: [{ name: 'database', run: async () => 1 }, { name: 'redis', run: async () => 'PONG' }] });
  expect(await r.check()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
});

test('when a check fails or never answers, then the node is unavailable and the report names the check, not the error', async () => {
  const r = createReadiness({
    timeoutMs: 50,
    checks: [
      { name: 'database', run: async () => { throw new Error('connect ECONNREFUSED 10.0.0.5:3306 password=hunter2'); } },
      { name: 'redis', run: () => new Promise(() => {}) },
      { name: 'keys', run: async () => undefined },
    ],
  });
  const report = await r.check();
  expect(report).toEqual({ status: 'unavailable', checks: { database: 'failed', redis: 'timeout', keys: 'ok' } });
  expect(JSON.stringify(report)).not.toContain('hunter2');
});

test('when the node starts draining, then it reports draining even though every check passes', async () => {
  const r = createReadiness({ checks: [{ name: 'database', run: async () => 1 }] });
  r.startDraining();
  expect(r.draining).toBe(true);
  expect(await r.check()).toEqual({ status: 'draining', checks: { database: 'ok' } });
});

test('when a check passes with a warning (keys: reload_failed), then the node stays ready and the report shows the warning', async () => {
  let warning: 'reload_failed' | undefined = 'reload_failed';
  const r = createReadiness({ checks: [{ name: 'database', run: async () => 1 }, { name: 'keys', run: async () => undefined, warning: () => warning }] });
  expect(await r.check()).toEqual({ status: 'ready', checks: { database: 'ok', keys: 'reload_failed' } });
  warning = undefined;
  expect(await r.check()).toEqual({ status: 'ready', checks: { database: 'ok', keys: 'ok' } });
});

test('when a check with a warning fails, then the failure is reported, not the warning', async () => {
  const r = createReadiness({ checks: [{ name: 'keys', run: async () => { throw new Error('keys missing'); }, warning: () => 'reload_failed' }] });
  expect(await r.check()).toEqual({ status: 'unavailable', checks: { keys: 'failed' } });
});
