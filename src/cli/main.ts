import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config/loadConfig.js';
import { CliError, UsageError } from './CliError.js';

/**
 * `onedoor`, the operator command. Exit codes: 0 done, 1 the command failed (one line on
 * stderr, no stack trace), 2 the command line is wrong. Configuration comes from the
 * environment through loadConfig(), as for the server.
 */

interface Run {
  config: Config;
  args: string[];
  flags: { json: boolean; replace: boolean; yes: boolean; resume: boolean; out: string | undefined; limit: number | undefined; by: string | undefined; reason: string | undefined };
  notice: (message: string) => void;
}

interface CommandSpec {
  usage: string;
  summary: string;
  args: number;
  flags: Array<Flag>;
  run(r: Run): Promise<string>;
}

type Flag = 'json' | 'replace' | 'yes' | 'resume' | 'out' | 'limit' | 'by' | 'reason';
const FLAGS: readonly Flag[] = ['json', 'replace', 'yes', 'resume', 'out', 'limit', 'by', 'reason'];
/** Options that take a value (the next argument, or `--name=value`). */
const VALUE_OPTIONS = ['out', 'limit', 'by', 'reason'] as const;

// Command modules load lazily: `--help` and the key commands stay quick, and a bad
// DATABASE_URL surfaces as a one-line error rather than at import time.
const COMMANDS: Record<string, CommandSpec> = {
  'clients add': {
    usage: 'clients add FILE.json [--replace]',
    summary: 'register an agency from a client file ("-" reads stdin)',
    args: 1,
    flags: ['replace'],
    run: async ({ config, args, flags, notice }) => (await import('./addClient.js')).addClient({ config, file: args[0]!, replace: flags.replace, notice }),
  },
  'clients list': {
    usage: 'clients list [--json]',
    summary: 'list registered agencies',
    args: 0,
    flags: ['json'],
    run: async ({ config, flags }) => (await import('./listClients.js')).listClients({ config, json: flags.json }),
  },
  'clients remove': {
    usage: 'clients remove CLIENT_ID',
    summary: 'remove an agency; its tokens stop working',
    args: 1,
    flags: [],
    run: async ({ config, args }) => (await import('./removeClient.js')).removeClient({ config, clientId: args[0]! }),
  },
  'keys rotate': {
    usage: 'keys rotate',
    summary: 'add a new signing key per algorithm (printed); old keys stay published',
    args: 0,
    flags: [],
    run: async ({ config }) => (await import('./rotateKeys.js')).rotateKeys({ config }),
  },
  'keys list': {
    usage: 'keys list [--json]',
    summary: 'list keys in KEYS_DIR and which of them sign',
    args: 0,
    flags: ['json'],
    run: async ({ config, flags, notice }) => (await import('./listKeys.js')).listKeys({ config, json: flags.json, notice }),
  },
  'keys remove': {
    usage: 'keys remove KID',
    summary: "retire an old key (never an algorithm's last one)",
    args: 1,
    flags: [],
    run: async ({ config, args }) => (await import('./removeKey.js')).removeKey({ config, kid: args[0]! }),
  },
  'keys rotate-kek': {
    usage: 'keys rotate-kek [--resume] [--limit N]',
    summary: 'new key-encryption key first; re-wrap every sealed record under it',
    args: 0,
    flags: ['resume', 'limit'],
    run: async ({ config, flags }) => (await import('./rotateKek.js')).rotateKek({ config, resume: flags.resume, limit: flags.limit }),
  },
  'accounts disable': {
    usage: 'accounts disable ACCOUNT',
    summary: 'stop an account signing in; end its sessions, tokens, delegations',
    args: 1,
    flags: [],
    run: async ({ config, args }) => (await import('./disableAccount.js')).disableAccount({ config, account: args[0]! }),
  },
  'accounts enable': {
    usage: 'accounts enable ACCOUNT',
    summary: 'let a disabled account sign in again',
    args: 1,
    flags: [],
    run: async ({ config, args }) => (await import('./enableAccount.js')).enableAccount({ config, account: args[0]! }),
  },
  'accounts export': {
    usage: 'accounts export ACCOUNT [--out FILE]',
    summary: "a person's data as JSON (stdout, or a new 0600 file)",
    args: 1,
    flags: ['out'],
    run: async ({ config, args, flags, notice }) => (await import('./exportAccount.js')).exportAccount({ config, account: args[0]!, out: flags.out, notice }),
  },
  'accounts delete': {
    usage: 'accounts delete ACCOUNT --yes',
    summary: 'delete an account and all its data',
    args: 1,
    flags: ['yes'],
    run: async ({ config, args, flags }) => (await import('./deleteAccount.js')).deleteAccount({ config, account: args[0]!, yes: flags.yes }),
  },
  'security-events list': {
    usage: 'security-events list [--json]',
    summary: 'security events waiting for a retry or given up on',
    args: 0,
    flags: ['json'],
    run: async ({ config, flags }) => (await import('./listSecurityEvents.js')).listSecurityEvents({ config, json: flags.json }),
  },
  'representations add': {
    usage: 'representations add FILE.json',
    summary: 'record a legal authority (waits for a second operator)',
    args: 1,
    flags: [],
    run: async ({ config, args }) => (await import('./addRepresentation.js')).addRepresentation({ config, file: args[0]! }),
  },
  'representations approve': {
    usage: 'representations approve ID --by NAME',
    summary: "a second operator's approval: the authority acts from now",
    args: 1,
    flags: ['by'],
    run: async ({ config, args, flags }) => (await import('./approveRepresentation.js')).approveRepresentation({ config, id: args[0]!, by: flags.by }),
  },
  'representations list': {
    usage: 'representations list [--json]',
    summary: 'legal authorities, without names',
    args: 0,
    flags: ['json'],
    run: async ({ config, flags }) => (await import('./listRepresentations.js')).listRepresentations({ config, json: flags.json }),
  },
  'representations show': {
    usage: 'representations show ID [--json]',
    summary: 'one legal authority: people, evidence reference, history',
    args: 1,
    flags: ['json'],
    run: async ({ config, args, flags }) => (await import('./showRepresentation.js')).showRepresentation({ config, id: args[0]!, json: flags.json }),
  },
  'representations end': {
    usage: 'representations end ID --reason TEXT',
    summary: 'end a legal authority now; its tokens stop working',
    args: 1,
    flags: ['reason'],
    run: async ({ config, args, flags }) => (await import('./endRepresentation.js')).endRepresentation({ config, id: args[0]!, reason: flags.reason }),
  },
  migrate: {
    usage: 'migrate',
    summary: 'run pending database migrations on DATABASE_URL',
    args: 0,
    flags: [],
    run: async ({ config }) => (await import('./runMigrations.js')).runMigrations({ config }),
  },
};

const USAGE = `Usage: onedoor <command> [options]

Commands:
${Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(40)}${c.summary}`).join('\n')}

Options:
  -h, --help                              show this help
  --debug                                 print the stack trace of an unexpected error

Environment: DATABASE_URL (sqlite:data/onedoor.sqlite), KEYS_DIR (keys), ISSUER.
Commands that read or write data need an up-to-date schema: run \`onedoor migrate\` first.
ACCOUNT is an email address or an account id (UUID).
Exit status: 0 done, 1 failed, 2 wrong usage.
`;

/** oidc-provider warns on import when Node is older than it supports; that is not the operator's command output. */
function withoutRuntimeWarning<T>(load: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
    warn(...args);
  };
  return load().finally(() => { console.warn = warn; });
}

interface MainIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Runs one command line; returns the exit code. */
async function main(argv: string[], io: MainIo): Promise<number> {
  let debug = argv.includes('--debug');
  try {
    let parsed;
    try {
      // Key ids and client ids may start with "-": only the known flags are options, everything
      // else (except a lone "--") is a positional argument.
      const known = new Set(['--help', '-h', '--json', '--replace', '--yes', '--resume', '--debug']);
      const flags: string[] = [];
      const rest: string[] = [];
      for (let i = 0; i < argv.length; i += 1) {
        const a = argv[i]!;
        const valueOption = VALUE_OPTIONS.find((o) => a === `--${o}` || a.startsWith(`--${o}=`));
        if (known.has(a)) flags.push(a);
        else if (valueOption && a === `--${valueOption}`) {
          // An option with a value: the next argument is the value, whatever it looks like.
          if (i + 1 >= argv.length) throw new Error(`Option '--${valueOption}' needs a value`);
          flags.push(`--${valueOption}=${argv[i += 1]!}`);
        } else if (valueOption) flags.push(a);
        else if (a !== '--') rest.push(a);
      }
      const unknownFlag = rest.find((a) => /^--[a-z]/.test(a));
      if (unknownFlag) throw new Error(`Unknown option '${unknownFlag}'`);
      parsed = parseArgs({
        args: [...flags, '--', ...rest],
        allowPositionals: true,
        strict: true,
        options: { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' }, replace: { type: 'boolean' }, yes: { type: 'boolean' }, resume: { type: 'boolean' }, out: { type: 'string' }, limit: { type: 'string' }, by: { type: 'string' }, reason: { type: 'string' }, debug: { type: 'boolean' } },
      });
    } catch (err) {
      const message = (err as Error).message;
      const option = /^Unknown option '([^']+)'/.exec(message)?.[1];
      throw new UsageError(option ? `unknown option ${option}` : message.split('\n')[0]!.replace(/\.$/, ''));
    }
    const { values, positionals } = parsed;
    debug = values.debug ?? false;
    if (values.help || positionals.length === 0 || positionals[0] === 'help') {
      if (positionals.length === 0 && !values.help) {
        io.stderr(USAGE);
        return 2;
      }
      io.stdout(USAGE);
      return 0;
    }
    const name = positionals[0] === 'migrate' ? 'migrate' : positionals.slice(0, 2).join(' ');
    const spec = COMMANDS[name];
    if (!spec) throw new UsageError(`unknown command "${name}"`);
    const args = positionals.slice(name.split(' ').length);
    if (args.length !== spec.args) throw new UsageError(`usage: onedoor ${spec.usage}`);
    for (const flag of FLAGS) {
      if (values[flag] !== undefined && values[flag] !== false && !spec.flags.includes(flag)) throw new UsageError(`--${flag} does not apply to "${name}"`);
    }
    if (values.out === '') throw new UsageError('--out needs a file name');
    if (values.limit !== undefined && !/^[1-9]\d{0,8}$/.test(values.limit)) throw new UsageError('--limit must be a whole number from 1 to 999999999');

    const config = loadConfig();
    const output = await withoutRuntimeWarning(() => spec.run({
      config,
      args,
      flags: {
        json: values.json ?? false, replace: values.replace ?? false, yes: values.yes ?? false, resume: values.resume ?? false,
        out: values.out, limit: values.limit === undefined ? undefined : Number(values.limit), by: values.by, reason: values.reason,
      },
      notice: (m) => io.stderr(`onedoor: ${m}\n`),
    }));
    if (output) io.stdout(`${output}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`onedoor: ${err.message} (see onedoor --help)\n`);
      return err.exitCode;
    }
    if (err instanceof CliError || err instanceof ConfigError) {
      io.stderr(`onedoor: ${err.message}\n`);
      return err instanceof CliError ? err.exitCode : 1;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    io.stderr(debug ? `onedoor: unexpected error: ${e.stack}\n` : `onedoor: unexpected error: ${e.message.split('\n')[0]} (rerun with --debug for details)\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => { process.stdout.write(text); },
  stderr: (text) => { process.stderr.write(text); },
});
