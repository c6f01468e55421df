/**
 * Process entry for the sample agency (`tsx demo/agency-main.ts`; `npm run demo` starts it).
 * Reads its configuration from the environment and the files `npm run demo` generated:
 *   ONEDOOR_ISSUER  OneDoor's issuer URL (http://localhost:3000)
 *   AGENCY_PORT     port to listen on (4000)
 *   DEMO_DIR        folder with client.json, phone-client.json and private-key.jwk.json (data/demo)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import { createAgency } from './agency.js';

const issuer = process.env['ONEDOOR_ISSUER'] ?? 'http://localhost:3000';
const port = Number(process.env['AGENCY_PORT'] ?? 4000);
const demoDir = path.resolve(process.env['DEMO_DIR'] ?? 'data/demo');

function readJson<T>(file: string): T {
  try {
    return JSON.parse(fs.readFileSync(path.join(demoDir, file), 'utf8')) as T;
  } catch (err) {
    process.stderr.write(`Cannot read ${path.join(demoDir, file)} (${(err as NodeJS.ErrnoException).code ?? 'invalid JSON'}): run \`npm run demo\` to create it.\n`);
    process.exit(1);
  }
}

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('AGENCY_PORT must be a port number\n');
  process.exit(1);
}

const { client_id: clientId } = readJson<{ client_id: string }>('client.json');
const privateJwk = readJson<JWK>('private-key.jwk.json');
// The phone channel's client (CIBA) is optional: without it the Phone agent page says how to set it up.
const phoneClientId = fs.existsSync(path.join(demoDir, 'phone-client.json')) ? readJson<{ client_id: string }>('phone-client.json').client_id : undefined;

const agency = await createAgency({ issuer, clientId, privateJwk, port, phoneClientId });
process.stdout.write(`Demo Benefits Agency is running at ${agency.url} (client ${clientId}, issuer ${issuer})\n`);

const stop = () => { agency.close().finally(() => process.exit(0)); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
