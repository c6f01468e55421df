import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

/**
 * Chromium for the end-to-end tests: the Debian build at /usr/bin/chromium (never a downloaded
 * one), a page per person with a CDP virtual authenticator standing in for their device
 * (https://chromedevtools.github.io/devtools-protocol/tot/WebAuthn/), axe-core for
 * accessibility and screenshots for people to look at.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const AXE_SOURCE_PATH = path.join(root, 'node_modules/axe-core/axe.min.js');
export const SHOTS_DIR = process.env['ONEDOOR_SHOTS_DIR'] ?? '/tmp/onedoor-shots';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * The e2e suite needs the system Chromium. Without it the suite is skipped, loudly, so that
 * `npm test` passes on a fresh machine; with REQUIRE_BROWSER=1 (CI) a missing Chromium fails.
 */
export function chromiumAvailable(): boolean {
  const found = fs.existsSync(CHROMIUM_PATH);
  if (!found && process.env['REQUIRE_BROWSER'] === '1') throw new Error(`REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM_PATH}`);
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface AuthenticatorOptions {
  /** Credentials say they may be synced (BE flag): such a passkey counts at most AAL2. */
  defaultBackupEligibility?: boolean;
  /** Credentials say they are synced now (BS flag). */
  defaultBackupState?: boolean;
  isUserVerified?: boolean;
  hasPrf?: boolean;
  /** 'internal' is the device's platform authenticator (Chrome allows one); 'usb' a security key. */
  transport?: 'internal' | 'usb' | 'nfc' | 'ble';
}

/** A credential as CDP `WebAuthn.getCredentials` returns it (private key included). */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
  backupEligibility?: boolean;
  backupState?: boolean;
}

/** One virtual authenticator in one page: a person's device. */
export class VirtualAuthenticator {
  constructor(readonly cdp: CDPSession, readonly id: string) {}

  async credentials(): Promise<VirtualCredential[]> {
    const { credentials } = await this.cdp.send('WebAuthn.getCredentials', { authenticatorId: this.id });
    return credentials as VirtualCredential[];
  }

  /** Puts credentials taken from another authenticator (another browser) on this one. */
  async addCredentials(credentials: VirtualCredential[]): Promise<void> {
    for (const credential of credentials) await this.cdp.send('WebAuthn.addCredential', { authenticatorId: this.id, credential });
  }

  /** Forges the next responses (bad signature, UV or UP bit); call with {} to stop. */
  async override(bits: { isBogusSignature?: boolean; isBadUV?: boolean; isBadUP?: boolean }): Promise<void> {
    await this.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: this.id, ...bits });
  }

  async remove(): Promise<void> {
    await this.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: this.id });
  }
}

export async function addAuthenticator(cdp: CDPSession, opts: AuthenticatorOptions = {}): Promise<VirtualAuthenticator> {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: opts.transport ?? 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: opts.isUserVerified ?? true, automaticPresenceSimulation: true,
      ...(opts.defaultBackupEligibility === undefined ? {} : { defaultBackupEligibility: opts.defaultBackupEligibility }),
      ...(opts.defaultBackupState === undefined ? {} : { defaultBackupState: opts.defaultBackupState }),
      ...(opts.hasPrf === undefined ? {} : { hasPrf: opts.hasPrf }),
    },
  });
  return new VirtualAuthenticator(cdp, authenticatorId);
}

export interface PersonBrowser {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticator: VirtualAuthenticator;
  /** Uncaught page errors and CSP violations seen so far: a page that breaks its own script. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * A fresh browser profile (context) with one page and one virtual authenticator, optionally
 * holding credentials moved over from another browser. Navigations to the agency's redirect
 * URI are answered locally (see answerAgency).
 */
export async function openPersonBrowser(browser: Browser, opts: {
  agencyRedirectUris?: string[]; locale?: string; authenticator?: AuthenticatorOptions; credentials?: VirtualCredential[];
  /**
   * Offer passkeys in the email field's autofill (WebAuthn conditional mediation). Off by
   * default: Chromium's virtual authenticator answers a conditional request at once, as if
   * the person had picked the passkey from the autofill list the moment the page loaded, so
   * the sign-in button would never be the one that signs in.
   */
  autofill?: boolean;
  /** The window: a laptop's by default; `PHONE` for a phone held upright. */
  viewport?: { width: number; height: number };
  /** Off: a browser without JavaScript (the pages must still work, passkeys aside). */
  javaScriptEnabled?: boolean;
} = {}): Promise<PersonBrowser> {
  const context = await browser.newContext({
    locale: opts.locale ?? 'en-US', viewport: opts.viewport ?? { width: 1280, height: 900 }, javaScriptEnabled: opts.javaScriptEnabled ?? true,
  });
  context.setDefaultTimeout(15_000);
  if (!opts.autofill) {
    // Runs before the page's scripts, through CDP (not an inline script, so CSP does not apply).
    await context.addInitScript(() => {
      const pkc = (globalThis as unknown as { PublicKeyCredential?: { isConditionalMediationAvailable?: () => Promise<boolean> } }).PublicKeyCredential;
      if (pkc) pkc.isConditionalMediationAvailable = () => Promise.resolve(false);
    });
  }
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`CSP on ${page.url()}: ${msg.text()}`);
  });
  const cdp = await context.newCDPSession(page);
  if (opts.agencyRedirectUris?.length) await answerAgency(cdp, opts.agencyRedirectUris);
  await cdp.send('WebAuthn.enable');
  const authenticator = await addAuthenticator(cdp, opts.authenticator);
  if (opts.credentials?.length) await authenticator.addCredentials(opts.credentials);
  return { context, page, cdp, authenticator, problems, close: () => context.close() };
}

/**
 * Answers navigations to the agency's redirect URI in the browser (its host does not exist):
 * a small page, so `page.url()` holds the code and state.
 *
 * Playwright's `page.route`/`context.route` cannot do this: it only sees the first request of
 * a redirect chain, and the browser reaches the agency through OneDoor's 303s (POST consent →
 * /auth/:uid → redirect_uri), so the request fails with ERR_NAME_NOT_RESOLVED. CDP's Fetch
 * domain pauses every hop of a redirect chain.
 */
export async function answerAgency(cdp: CDPSession, redirectUris: string[]): Promise<void> {
  // Fetch URL patterns: '*' and '?' are wildcards, backslash escapes.
  const patterns = redirectUris.map((u) => ({ urlPattern: `${u.replace(/[\\*?]/g, (c) => `\\${c}`)}*`, requestStage: 'Request' as const }));
  await cdp.send('Fetch.enable', { patterns });
  cdp.on('Fetch.requestPaused', (event) => {
    const body = Buffer.from('<!doctype html><html lang="en"><title>Agency</title><p>agency</p></html>').toString('base64');
    cdp.send('Fetch.fulfillRequest', { requestId: event.requestId, responseCode: 200, responseHeaders: [{ name: 'content-type', value: 'text/html; charset=utf-8' }], body })
      .catch(() => undefined); // the page may be gone already
  });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string; html: string }>;
}

let axeSource: string | undefined;

/**
 * Runs axe-core on the page and fails on 'serious' or 'critical' violations, listing them.
 *
 * The pages' CSP (script-src 'self') blocks `page.addScriptTag`, which injects an inline
 * <script>. `page.evaluate` of the axe source runs through the DevTools protocol
 * (Runtime.evaluate), which CSP does not govern, so the pages are tested exactly as served:
 * no `bypassCSP` context needed.
 */
export async function axeCheck(page: Page, opts: { name?: string } = {}): Promise<AxeViolation[]> {
  axeSource ??= fs.readFileSync(AXE_SOURCE_PATH, 'utf8');
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  }) as AxeViolation[];
  if (opts.name) {
    fs.mkdirSync(path.join(SHOTS_DIR, 'axe'), { recursive: true });
    fs.writeFileSync(path.join(SHOTS_DIR, 'axe', `${opts.name}.json`), JSON.stringify({ url: page.url(), violations }, null, 2));
  }
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const list = bad.map((v) => `- [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${v.nodes.slice(0, 5).map((n) => `    at ${JSON.stringify(n.target)}: ${n.html.slice(0, 200)}`).join('\n')}`).join('\n');
    throw new Error(`axe found ${bad.length} serious/critical accessibility violation(s) on ${opts.name ?? ''} ${page.url()}:\n${list}`);
  }
  return violations;
}

/** A full-page screenshot in SHOTS_DIR/<name>.png, for people to look at (not committed). */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SHOTS_DIR, { recursive: true });
  const file = path.join(SHOTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A phone held upright (an iPhone 12–15's CSS width): every page must fit it. */
export const PHONE = { width: 390, height: 844 };

/**
 * What sticks out past the right edge of the window: the document itself when it scrolls
 * sideways, and each outermost visible element whose box ends beyond the edge (its descendants
 * are not listed again). Empty when the page fits.
 */
export async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > width) out.push(`the document is ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
    const describe = (el: Element) => {
      const cls = [...el.classList].slice(0, 3).map((c) => `.${c}`).join('');
      const txt = (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40);
      return `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${cls}> "${txt}"`;
    };
    const walk = (el: Element) => {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (style.display === 'none' || style.visibility === 'hidden') return;
      if (box.width > 0 && box.height > 0 && box.right > width + 0.5) {
        out.push(`${describe(el)} ends at ${Math.round(box.right)}px`);
        return;
      }
      for (const child of el.children) walk(child);
    };
    walk(document.body);
    return out;
  });
}
