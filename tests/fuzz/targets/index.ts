import { acrResolution } from './acr.js';
import { aamvaAnyText, aamvaRoundTrip } from './aamva.js';
import { barcodeBytes } from './barcode.js';
import { clientFiles } from './clientFile.js';
import { readableCodeAnyText, readableCodeTyped } from './codes.js';
import { csrfTokens } from './csrf.js';
import { pairwiseSubjects } from './pairwise.js';
import { memorableDate, ssnRules } from './ssnAndDates.js';
import type { FuzzTarget } from './target.js';

/** Every parser and policy under property tests and fuzzing, by name. */
export const TARGETS: readonly FuzzTarget[] = [
  aamvaRoundTrip, aamvaAnyText, barcodeBytes, clientFiles, readableCodeTyped, readableCodeAnyText, acrResolution, ssnRules, memorableDate, csrfTokens, pairwiseSubjects,
];

export type { FuzzTarget };
