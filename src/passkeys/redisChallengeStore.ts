import type { Redis } from 'ioredis';
import type { ChallengeStore } from './challenges.js';

/**
 * WebAuthn challenges in Redis (REDIS_URL): SET with the challenge's TTL replaces the earlier
 * challenge of the same binding and purpose; GETDEL takes it, so of concurrent submissions of one
 * assertion exactly one gets the challenge. Each is one command. Not deleted with an account:
 * they expire within CHALLENGE_TTL_SECONDS.
 */
export function redisChallengeStore(redis: Redis): ChallengeStore {
  const key = (k: string) => `webauthn:${k}`;
  return {
    async put(k, value, ttlSeconds) { await redis.set(key(k), value, 'EX', ttlSeconds); },
    take: (k) => redis.getdel(key(k)),
  };
}
