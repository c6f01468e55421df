import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { type DataSource, IsNull, LessThan } from 'typeorm';
import { OidcClient, OidcPayload } from '../../entities/index.js';
import { scopesForMaxIal } from './claims.js';

/**
 * oidc-provider's adapter interface over TypeORM: every protocol artifact (Session,
 * Interaction, AuthorizationCode, AccessToken, RefreshToken, Grant, PAR, ReplayDetection…)
 * is one row of `oidc_payloads`, so a restart loses nothing and any process on the same
 * database can continue any flow. Clients are read from `oidc_clients`.
 *
 * Expiry follows the wall clock, as oidc-provider's own checks do.
 */
export function createAdapter(ds: DataSource): new (name: string) => Adapter {
  const payloads = ds.getRepository(OidcPayload);
  const clients = ds.getRepository(OidcClient);

  function toPayload(row: OidcPayload | null): AdapterPayload | undefined {
    if (!row) return undefined;
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumedAt) payload.consumed = Math.floor(row.consumedAt.getTime() / 1000);
    return payload;
  }

  return class TypeormAdapter implements Adapter {
    readonly model: string;

    constructor(name: string) {
      this.model = name;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed with `onedoor clients`');
      await payloads.upsert({
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grantId: payload.grantId ?? null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        accountId: payload.accountId ?? null,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
        consumedAt: null,
      }, ['model', 'id']);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const row = await clients.findOneBy({ clientId: id });
        if (!row) return undefined;
        const metadata = JSON.parse(row.metadata) as AdapterPayload & { scope?: string; max_ial?: number };
        // A client may ask for the scopes its max_ial allows (identity scopes need max_ial 2).
        metadata.scope ??= scopesForMaxIal(metadata.max_ial ?? 1).join(' ');
        return metadata;
      }
      return toPayload(await payloads.findOneBy({ model: this.model, id }));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toPayload(await payloads.findOneBy({ model: this.model, userCode }));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return toPayload(await payloads.findOneBy({ model: this.model, uid }));
    }

    /**
     * Marks a one-time artifact (authorization code, rotated refresh token…) used. The update
     * only matches an unconsumed row, so of two concurrent redemptions exactly one wins; the
     * loser gets `invalid_grant` as if it had seen the artifact consumed.
     */
    async consume(id: string): Promise<void> {
      const result = await payloads.update({ model: this.model, id, consumedAt: IsNull() }, { consumedAt: new Date() });
      if (!result.affected) throw new errors.InvalidGrant('grant request is invalid');
    }

    async destroy(id: string): Promise<void> {
      await payloads.delete({ model: this.model, id });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await payloads.delete({ grantId });
    }
  };
}

/** Deletes artifacts that expired more than `graceSeconds` ago. Returns how many went. */
export async function purgeExpiredPayloads(ds: DataSource, graceSeconds = 60): Promise<number> {
  const result = await ds.getRepository(OidcPayload).delete({ expiresAt: LessThan(new Date(Date.now() - graceSeconds * 1000)) });
  return result.affected ?? 0;
}

/** The newest live grant an account gave a client, if any (consent is per person, not per browser). */
export async function findGrantId(ds: DataSource, accountId: string, clientId: string): Promise<string | undefined> {
  const rows = await ds.getRepository(OidcPayload).find({ where: { model: 'Grant', accountId }, order: { expiresAt: 'DESC' } });
  const now = Date.now();
  const row = rows.find((r) => (!r.expiresAt || r.expiresAt.getTime() > now) && (JSON.parse(r.payload) as { clientId?: string }).clientId === clientId);
  return row?.id;
}
