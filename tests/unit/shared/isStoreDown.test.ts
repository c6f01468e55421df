import { isStoreDown } from '../../../src/shared/isStoreDown.js';

/** How ioredis hands over an error reply from Redis. */
const replyError = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('isStoreDown', () => {
  test.each([
    ['a Redis command that timed out', new Error('Command timed out')],
    ['a closed Redis connection', new Error('Connection is closed.')],
    ['ioredis out of retries', Object.assign(new Error('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.'), { name: 'MaxRetriesPerRequestError' })],
    ['an unwritable Redis stream', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })],
    ['a wrapped Redis error', new Error('adapter failed', { cause: new Error('Command timed out') })],
    ['the database gone', Object.assign(new Error('x'), { driverError: { code: 'PROTOCOL_CONNECTION_LOST' } })],
    ['Redis loading its data after a restart', replyError('LOADING Redis is loading the dataset in memory')],
    ['a replica during a failover', replyError("READONLY You can't write against a read only replica.")],
    ['Redis full under noeviction', replyError("OOM command not allowed when used memory > 'maxmemory'.")],
    ['Redis busy with a script', replyError('BUSY Redis is busy running a script.')],
  ])('when the error is %s, then the store is down (503)', (_what, err) => {
    expect(isStoreDown(err)).toBe(true);
  });

  test.each([
    ['a programming error', new TypeError('x is not a function')],
    ['a Redis script error', new Error('ERR Error running script')],
    ['a Redis script error reply', replyError('ERR Error running script (call to f_x): oops')],
    ['a wrong-type reply', replyError('WRONGTYPE Operation against a key holding the wrong kind of value')],
    ['a plain error that says LOADING', new Error('LOADING the page')],
    ['a message that only mentions a timeout', new Error('the passkey request timed out')],
    ['nothing', undefined],
    ['a string', 'Command timed out?'],
  ])('when the error is %s, then it is not an outage', (_what, err) => {
    expect(isStoreDown(err)).toBe(false);
  });
});
