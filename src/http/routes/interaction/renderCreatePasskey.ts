import type { Context } from 'koa';
import { render, WEBAUTHN_SCRIPTS } from '../../render.js';

/** The page that creates a passkey (sign-up, recovery); the language switch reloads it. */
export function renderCreatePasskey(ctx: Context, heading: string, actions: { submit: string; options: string; cancel?: string }, extra: Record<string, unknown> = {}, status = 200): void {
  render(ctx, 'passkey-create', { title: heading, heading, actions, scripts: WEBAUTHN_SCRIPTS, langPath: actions.submit, ...extra }, status);
}
