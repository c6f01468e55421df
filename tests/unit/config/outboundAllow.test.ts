import { ConfigError, loadConfig } from '../../../src/config/loadConfig.js';

const load = (value: string) => loadConfig({ OUTBOUND_ALLOW: value }, { warn: () => {} });

describe('OUTBOUND_ALLOW', () => {
  test('when it is not set, then nothing is excepted from the outgoing rules', () => {
    const config = loadConfig({}, { warn: () => {} });
    expect(config.outboundAllow.hosts.size).toBe(0);
    expect(config.outboundAllow.ranges).toEqual([]);
  });

  test('when it lists host names, addresses and CIDR ranges, then each is kept (names in lower case)', () => {
    const config = load(' jwks.Staging.internal , 10.0.0.0/8,192.168.1.20, fd00::/8, [::1], localhost. ');
    expect([...config.outboundAllow.hosts].sort()).toEqual(['jwks.staging.internal', 'localhost']);
    expect(config.outboundAllow.ranges.map((r) => [r.version, r.prefix])).toEqual([[4, 8], [4, 32], [6, 8], [6, 128]]);
  });

  test.each(['10.0.0.0/33', 'fd00::/129', '10.0.0.1/8/2', 'http://jwks.internal', '*.internal', 'jwks internal', '2130706433', '0x7f.1', '10.1', '-bad.internal'])('when it holds "%s", then start-up stops with a one-line error naming the variable', (entry) => {
    expect(() => load(`ok.internal,${entry}`)).toThrow(ConfigError);
    expect(() => load(`ok.internal,${entry}`)).toThrow(`OUTBOUND_ALLOW: "${entry}" is not a host name, IP address or CIDR range`);
  });
});
