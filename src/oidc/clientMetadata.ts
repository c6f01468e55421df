import { errors } from 'oidc-provider';
import { CONSENT, isRepresentationKind } from '../delegation/representationKinds.js';

/** OneDoor's own client fields, checked wherever oidc-provider loads client metadata. */
export function validateOneDoorMetadata(key: string, value: unknown, metadata: Record<string, unknown>): void {
  switch (key) {
    case 'delegation_enabled':
      if (value === undefined) { metadata[key] = false; return; }
      if (typeof value !== 'boolean') throw new errors.InvalidClientMetadata('delegation_enabled must be a boolean');
      return;
    case 'delegation_bases_accepted':
      if (value === undefined) return;
      if (!Array.isArray(value) || value.some((b) => b !== CONSENT && !isRepresentationKind(b))) throw new errors.InvalidClientMetadata('delegation_bases_accepted must list consent or kinds of legal authority');
      return;
    case 'representation_authority':
      if (value === undefined) return;
      if (!Array.isArray(value) || !value.every(isRepresentationKind)) throw new errors.InvalidClientMetadata('representation_authority must list kinds of legal authority');
      return;
    case 'max_ial':
      if (value === undefined) { metadata[key] = 1; return; }
      if (value !== 1 && value !== 2) throw new errors.InvalidClientMetadata('max_ial must be 1 or 2');
      return;
    case 'security_event_endpoint': {
      if (value === undefined) return;
      let url: URL | undefined;
      try { url = typeof value === 'string' ? new URL(value) : undefined; } catch { url = undefined; }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hash) throw new errors.InvalidClientMetadata('security_event_endpoint must be an absolute https URL');
      return;
    }
    default:
  }
}
