import type { X509Certificate } from 'node:crypto';

/** Longer chains are refused: attestation and metadata chains have two or three certificates. */
const MAX_CHAIN = 5;

const validAt = (cert: X509Certificate, at: Date) => new Date(cert.validFrom) <= at && at <= new Date(cert.validTo);

/** `cert` names `issuer` as its issuer and carries a signature by the issuer's key. */
const issuedBy = (cert: X509Certificate, issuer: X509Certificate) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);

/**
 * The trust anchor a certificate chain reaches, or undefined. `chain` is leaf first, then the
 * intermediates (an x5c array); each certificate must be valid at `at` and signed by the next,
 * which must be a CA, until one is signed by an anchor (or is an anchor). An anchor is taken as
 * a name and a key (RFC 5280 §6.1.1 d), so a self-signed attestation certificate can be its own
 * anchor, as FIDO metadata allows. Name and policy constraints are not evaluated: the anchors
 * are per-authenticator roots from the operator's trust store, not a public web PKI.
 */
export function chainsToAnchor(opts: { chain: readonly X509Certificate[]; anchors: readonly X509Certificate[]; at: Date }): X509Certificate | undefined {
  const { chain, at } = opts;
  if (chain.length === 0 || chain.length > MAX_CHAIN) return undefined;
  const anchors = opts.anchors.filter((a) => validAt(a, at));
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    if (!validAt(cert, at)) return undefined;
    const anchor = anchors.find((a) => a.raw.equals(cert.raw) || issuedBy(cert, a));
    if (anchor) return anchor;
    const next = chain[i + 1];
    if (!next || !next.ca || !issuedBy(cert, next)) return undefined;
  }
  return undefined;
}
