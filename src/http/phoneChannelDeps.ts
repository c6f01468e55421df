import type { DataSource } from 'typeorm';
import type { Config } from '../config/loadConfig.js';
import type { KeyMaterial } from '../oidc/keys.js';
import type { PhoneChannelDeps } from '../oidc/phoneChannel.js';
import { notifyPhoneRequest } from '../phone/notifyPhoneRequest.js';
import type { SmsSender } from '../proofing/vendors/ports.js';
import { isLocale, translator } from '../shared/i18n.js';
import { logger } from '../shared/logger.js';
import type { Mailer } from '../shared/mailer.js';
import type { Metrics } from '../shared/metrics.js';
import type { Limits } from './limits.js';

/**
 * What the provider's phone channel gets from the app: the limits of src/http/limits.ts, the
 * person's notification (in the background, after the agency has its answer, so that a known
 * address answers no slower than an unknown one), and the metric. Failures are logged by kind,
 * never with an address, a phone number or the request's link.
 */
export function phoneChannelDeps(opts: { ds: DataSource; keys: KeyMaterial; config: Config; mailer: Mailer; sms: SmsSender; metrics: Metrics; limits: Limits }): PhoneChannelDeps {
  const { ds, keys, config, metrics, limits } = opts;
  const notifyDeps = { db: ds.manager, mailer: opts.mailer, sms: opts.sms, kek: keys.kek, t: (l: string) => translator(isLocale(l) ? l : 'en'), issuer: config.issuer };
  return {
    limits: { client: limits.phoneRequestClient, personAgency: limits.phoneRequestPersonAgency },
    async notify(request) {
      try {
        const told = await notifyPhoneRequest(notifyDeps, request);
        if (told.ok && told.sms === 'failed') logger.warn({ clientId: request.clientId }, 'phone request: the text message could not be sent (the mail was)');
      } catch (err) {
        logger.warn({ clientId: request.clientId, error: (err as Error).name }, 'phone request: the person could not be told');
      }
    },
    count: (event) => metrics.phoneRequests.inc({ event }),
  };
}
