import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Agent } from '../support/agent.js';
import { registerAgency, type TestAgency } from '../support/agency.js';
import { delegationDepsFor } from '../support/delegationFlow.js';
import { openAuthorization, readMail, signUp } from '../support/flows.js';
import { SoftAuthenticator } from '../support/softAuthenticator.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { inviteHelper, requestAccess } from '../../src/delegation/manageDelegations.js';
import { clock } from '../../src/shared/clock.js';
import { Account } from '../../entities/index.js';

/**
 * The four languages (en, es, fr, zh-Hans) end to end over HTTP: how a page's language is chosen
 * (?lang= and its cookie, the agency's ui_locales, Accept-Language with q-values, Traditional
 * Chinese never given Simplified), and that mail goes out in the person's language.
 */

let server: TestServer;
let agency: TestAgency;

beforeAll(async () => {
  server = await startTestServer();
  agency = await registerAgency(server, { clientId: 'agency-lang', extra: { delegation_enabled: true } });
});
afterAll(async () => { await server.close(); });

const address = () => `lang-${randomUUID().slice(0, 8)}@example.com`;
const htmlLang = (html: string) => html.match(/<html lang="([^"]+)">/)?.[1];

/** Every mail in the outbox addressed to `to`, read as a mail program shows it, oldest first. */
function mailsTo(to: string) {
  return fs.readdirSync(server.outboxDir).filter((f) => f.endsWith('.eml')).sort()
    .map((f) => readMail(fs.readFileSync(path.join(server.outboxDir, f), 'utf8')))
    .filter((m) => m.to === to);
}

async function signUpWith(params: Record<string, string>) {
  const email = address();
  const authenticator = new SoftAuthenticator({ origin: server.url, rpId: 'localhost' });
  const a = await agency.authorize(params);
  const { agent } = await signUp({ server, authenticator, authUrl: a.url, email });
  const account = await server.ds.getRepository(Account).findOneByOrFail({ email });
  return { email, agent, account };
}

describe('the page language', () => {
  test.each([
    ['fr-CA,fr;q=0.9,en;q=0.8', 'fr'],
    ['zh-CN,zh;q=0.9', 'zh-Hans'],
    ['zh-Hans-SG', 'zh-Hans'],
    ['en;q=0.5, zh-CN;q=0.8', 'zh-Hans'],
    ['es;q=0.1, fr;q=0.9', 'fr'],
    ['zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7', 'en'],
    ['zh-HK,zh;q=0.9,es;q=0.5', 'es'],
    ['zh-Hant', 'en'],
    ['de-DE,de;q=0.9', 'en'],
  ])('when the browser sends Accept-Language %j, then the home page is in %s', async (header, lang) => {
    const res = await fetch(`${server.url}/`, { headers: { 'accept-language': header } });
    expect(htmlLang(await res.text())).toBe(lang);
  });

  test('when the person picks 简体中文 on the page, then that page and the next are in Chinese with <html lang="zh-Hans">, and the switch names each language in its own name', async () => {
    const agent = new Agent();
    const chosen = await agent.page(`${server.url}/?lang=zh-Hans`);
    expect(htmlLang(chosen.html)).toBe('zh-Hans');
    expect(chosen.html).toContain('一个账户，办理各项政府服务');
    expect(chosen.res.headers.getSetCookie().join()).toMatch(/od_lang=zh-Hans;/);
    for (const [code, label] of [['en', 'English'], ['es', 'Español'], ['fr', 'Français']]) {
      expect(chosen.html).toContain(`<a href="/?lang=${code}" lang="${code}" hreflang="${code}">${label}</a>`);
    }
    expect(chosen.html).toContain('<span class="onedoor-lang__current" aria-current="true" lang="zh-Hans">简体中文</span>');
    // The cookie wins over the browser's own language on the next page.
    const next = await agent.page(`${server.url}/`);
    expect(htmlLang(next.html)).toBe('zh-Hans');
  });

  test('when ?lang= is written in another case or with a region, then it is understood; Traditional Chinese, unknown and malformed values change nothing', async () => {
    for (const [asked, lang] of [['ZH-hans', 'zh-Hans'], ['fr-CA', 'fr'], ['zh-CN', 'zh-Hans']] as const) {
      const res = await fetch(`${server.url}/?lang=${asked}`);
      expect(htmlLang(await res.text())).toBe(lang);
      expect(res.headers.getSetCookie().join()).toContain(`od_lang=${lang};`);
    }
    for (const asked of ['zh-TW', 'zh-Hant', 'de', '%3Cscript%3E', 'x'.repeat(500), 'fr&lang=es']) {
      const res = await fetch(`${server.url}/?lang=${asked}`, { headers: { 'accept-language': 'es' } });
      expect(htmlLang(await res.text())).toBe('es');
      expect(res.headers.getSetCookie().join()).not.toContain('od_lang');
    }
  });

  test('when the cookie holds a value that is not a language, then it is ignored', async () => {
    const res = await fetch(`${server.url}/`, { headers: { cookie: 'od_lang=<b>', 'accept-language': 'fr' } });
    expect(htmlLang(await res.text())).toBe('fr');
  });

  test.each([
    ['zh-CN', 'zh-Hans', '登录'],
    ['zh-Hans fr', 'zh-Hans', '登录'],
    ['zh-TW fr', 'fr', 'Se connecter'],
    ['fr-FR', 'fr', 'Se connecter'],
  ])('when the agency passes ui_locales=%j, then the sign-in page is in %s', async (uiLocales, lang, title) => {
    const agent = new Agent();
    const url = await openAuthorization(agent, server, (await agency.authorize({ ui_locales: uiLocales })).url);
    const page = await agent.page(url);
    expect(htmlLang(page.html)).toBe(lang);
    expect(page.html).toContain(`<h1 id="page-title">${title}</h1>`);
  });
});

describe('mail in the person\'s language', () => {
  test('when a person signs up at an agency that passes ui_locales=fr, then the confirmation mail is in French and the account remembers French', async () => {
    const { email, account } = await signUpWith({ ui_locales: 'fr' });
    const [confirmation] = mailsTo(email);
    expect(confirmation!.subject).toMatch(/^Votre code OneDoor\u00a0: \d{6}$/) // French puts a no-break space before a colon;
    expect(confirmation!.text).toContain('Votre code de confirmation OneDoor est');
    expect(confirmation!.text).toContain('expire dans 15 minutes');
    expect(account.locale).toBe('fr');
  });

  test('when a person signs up at an agency that passes ui_locales=zh-CN, then the confirmation mail is in Simplified Chinese and the account stores zh-Hans', async () => {
    const { email, account } = await signUpWith({ ui_locales: 'zh-CN' });
    const [confirmation] = mailsTo(email);
    expect(confirmation!.subject).toMatch(/^您的 OneDoor 验证码：\d{6}$/);
    expect(confirmation!.text).toContain('该验证码只能使用一次，15 分钟后失效。');
    expect(account.locale).toBe('zh-Hans'); // 7 characters in the varchar(8) column, read back as written
  });

  test('when a zh-Hans person invites a French person and someone without an account, then each reads the invitation in their own language (the newcomer in the inviter\'s)', async () => {
    const principal = await signUpWith({ ui_locales: 'zh-Hans' });
    const helper = await signUpWith({ ui_locales: 'fr' });
    const deps = delegationDepsFor(server);
    const terms = { clientIds: ['*'], scopes: ['email'], endsAt: new Date(clock.nowMs() + 30 * 86400 * 1000) };

    expect((await inviteHelper(deps, { principalId: principal.account.id, helperEmail: helper.email, terms })).ok).toBe(true);
    const toHelper = mailsTo(helper.email).at(-1)!;
    expect(toHelper.subject).toBe(`${principal.email} vous invite à devenir son aidant sur OneDoor`);
    expect(toHelper.text).toContain('Votre code d’invitation\u00a0: ');

    const newcomer = address();
    expect((await inviteHelper(deps, { principalId: principal.account.id, helperEmail: newcomer, terms })).ok).toBe(true);
    expect(mailsTo(newcomer).at(-1)!.subject).toBe(`${principal.email} 邀请您在 OneDoor 上担任其协助人`);

    // The French helper asks the Chinese principal: the principal reads it in Chinese.
    expect((await requestAccess(deps, { helperId: helper.account.id, principalEmail: principal.email, terms })).ok).toBe(true);
    expect(mailsTo(principal.email).at(-1)!.subject).toBe(`${helper.email} 请求在 OneDoor 上协助您`);
  });
});
