import { generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

/**
 * Just enough X.509 for attestation tests: a CA (root or intermediate) and the attestation
 * certificates it issues, ECDSA P-256 with SHA-256, DER written by hand (node:crypto reads
 * certificates but cannot make them). RFC 5280 §4.1 for the layout; the leaf carries what
 * WebAuthn §8.2.1 asks of a packed attestation certificate (OU "Authenticator Attestation",
 * basicConstraints CA false, the id-fido-gen-ce-aaguid extension).
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]) => { const c = Buffer.concat(content); return Buffer.concat([Buffer.from([tag]), length(c.length), c]); };
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
function integer(b: Buffer): Buffer {
  let v = b;
  while (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) v = v.subarray(1);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const n of rest) {
    const bytes: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) { bytes.unshift(v % 128); if (v < 128) break; }
    out.push(...bytes.map((x, i) => (i < bytes.length - 1 ? x | 0x80 : x)));
  }
  return tlv(0x06, Buffer.from(out));
}
/** UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const ATTR: Record<string, string> = { C: '2.5.4.6', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' };
function name(parts: Array<[keyof typeof ATTR, string]>): Buffer {
  return seq(...parts.map(([k, v]) => set(seq(oid(ATTR[k]!), k === 'C' ? tlv(0x13, Buffer.from(v)) : tlv(0x0c, Buffer.from(v, 'utf8'))))));
}
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

export interface TestCa {
  subject: Buffer;
  key: KeyObject;
  /** DER. */
  cert: Buffer;
  pem: string;
  /** What an x5c carries after the leaf for this CA: itself and its issuers, up to (not including) the root. */
  chain: Buffer[];
}

function certificate(opts: { subject: Buffer; issuer: Buffer; issuerKey: KeyObject; publicKey: KeyObject; extensions: Buffer[]; notAfterYears?: number }): Buffer {
  const now = Date.now();
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(randomBytes(12)),
    ECDSA_SHA256,
    opts.issuer,
    seq(time(new Date(now - 86_400_000)), time(new Date(now + (opts.notAfterYears ?? 10) * 365 * 86_400_000))),
    opts.subject,
    opts.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...opts.extensions)),
  );
  return seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, opts.issuerKey)));
}

const toPem = (der: Buffer) => new X509Certificate(der).toString();

/**
 * A CA for attestation certificates: a self-signed root, or — with `issuer` — an intermediate.
 * Two CAs with the same `name` have the same subject and different keys (for forgeries).
 */
export function createTestCa(opts: { name: string; issuer?: TestCa }): TestCa {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = name([['C', 'US'], ['O', 'OneDoor Tests'], ['CN', opts.name]]);
  const cert = certificate({
    subject, issuer: opts.issuer?.subject ?? subject, issuerKey: opts.issuer?.key ?? privateKey, publicKey, notAfterYears: 20,
    extensions: [
      extension('2.5.29.19', true, seq(bool(true))), // basicConstraints: CA
      extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x01, 0x06]))), // keyUsage: keyCertSign, cRLSign
    ],
  });
  return { subject, key: privateKey, cert, pem: toPem(cert), chain: opts.issuer ? [cert, ...opts.issuer.chain] : [] };
}

/** An attestation certificate for `publicKey` (a model's batch key), naming the model's AAGUID. */
export function issueAttestationCertificate(opts: { ca: TestCa; publicKey: KeyObject; aaguid: string; model?: string }): Buffer {
  return certificate({
    subject: name([['C', 'US'], ['O', 'OneDoor Tests'], ['OU', 'Authenticator Attestation'], ['CN', opts.model ?? 'Test Security Key']]),
    issuer: opts.ca.subject, issuerKey: opts.ca.key, publicKey: opts.publicKey,
    extensions: [
      extension('2.5.29.19', true, seq()), // basicConstraints: not a CA
      extension('1.3.6.1.4.1.45724.1.1.4', false, octets(Buffer.from(opts.aaguid.replace(/-/g, ''), 'hex'))), // id-fido-gen-ce-aaguid
    ],
  });
}

/**
 * A TLS server certificate for `host` (subjectAltName dNSName, extendedKeyUsage serverAuth) and
 * its key, issued by `ca`: for an agency endpoint OneDoor calls over https in a test, with the
 * CA given to the OneDoor process as NODE_EXTRA_CA_CERTS.
 */
export function issueServerCertificate(opts: { ca: TestCa; host: string }): { pem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = certificate({
    subject: name([['C', 'US'], ['O', 'OneDoor Tests'], ['CN', opts.host]]), issuer: opts.ca.subject, issuerKey: opts.ca.key, publicKey,
    extensions: [
      extension('2.5.29.19', true, seq()), // basicConstraints: not a CA
      extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))), // keyUsage: digitalSignature
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extendedKeyUsage: serverAuth
      extension('2.5.29.17', false, seq(tlv(0x82, Buffer.from(opts.host, 'ascii')))), // subjectAltName: dNSName
    ],
  });
  return { pem: toPem(cert), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
