import { isStoreDown } from '../../../src/shared/isStoreDown.js';

describe('isStoreDown', () => {
  test.each([
    ['a Redis command that timed out', new Error('Command timed out')],
    ['a closed Redis connection', new Error('Connection is closed.')],
    ['ioredis out of retries', Object.assign(new Error('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.'), { name: 'MaxRetriesPerRequestError' })],
    ['an unwritable Redis stream', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })],
    ['a wrapped Redis error', new Error('adapter failed', { cause: new Error('Command timed out') })],
    ['the database gone', Object.assign(new Error('x'), { driverError: { code: 'PROTOCOL_CONNECTION_LOST' } })],
  ])('when the error is %s, then the store is down (503)', (_what, err) => {
    expect(isStoreDown(err)).toBe(true);
  });

  test.each([
    ['a programming error', new TypeError('x is not a function')],
    ['a Redis script error', new Error('ERR Error running script')],
    ['a message that only mentions a timeout', new Error('the passkey request timed out')],
    ['nothing', undefined],
    ['a string', 'Command timed out?'],
  ])('when the error is %s, then it is not an outage', (_what, err) => {
    expect(isStoreDown(err)).toBe(false);
  });
});
