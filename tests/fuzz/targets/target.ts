import type { Arbitrary } from 'fast-check';

/**
 * One property of one parser or policy, defined once: `tests/fuzz/properties.test.ts` runs it
 * for `testRuns` inputs inside `npm test`, `npm run fuzz` runs it for as long as it is given,
 * and `tests/fuzz/findings.test.ts` replays every input the fuzzer ever saved for it.
 */
export interface FuzzTarget<T = unknown> {
  name: string;
  /** What holds for every input, as a test name reads ("when …, then …"). */
  property: string;
  arbitrary: Arbitrary<T>;
  /** Throws (node:assert) when the property does not hold for this input. */
  check(input: T): void | Promise<void>;
  /** Inputs per run inside `npm test` (bounded: the whole file stays within seconds). */
  testRuns: number;
  /** How an input is kept in a JSON fixture and read back (default: as is). */
  encode?(input: T): unknown;
  decode?(stored: unknown): T;
}

export const defineTarget = <T>(t: FuzzTarget<T>): FuzzTarget<unknown> => t as unknown as FuzzTarget<unknown>;
