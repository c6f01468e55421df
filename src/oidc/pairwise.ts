import { hmac } from '../shared/ids.js';

/** The subject an agency sees: stable per (sector, account), unlinkable across sectors. */
export function pairwiseSubject(salt: string, sectorIdentifier: string, accountId: string): string {
  return hmac(salt, `${sectorIdentifier}|${accountId}`);
}

/** What of a client (oidc-provider's Client) decides its sector. */
export interface SectorSource {
  clientId: string;
  sectorIdentifier?: string | undefined;
  sectorIdentifierUri?: string | undefined;
  applicationType?: string | undefined;
}

/**
 * The sector a client's pairwise subjects are computed for (OIDC Core §8.1): the host of its
 * `sector_identifier_uri`, else of its redirect URI. A native app's private-use scheme or loopback
 * redirect proves no host, and anyone could register the same scheme: without a sector document,
 * each native app is a sector of its own, so two apps never receive the same subject for a person
 * (RFC 8252 §8.4 — an app's identity cannot be proven by its redirect).
 */
export function sectorOf(client: SectorSource): string {
  if (client.applicationType === 'native' && !client.sectorIdentifierUri) return `native-app:${client.clientId}`;
  return String(client.sectorIdentifier);
}
