import type { BenchReport, Goal, ScaleRow } from './report.js';
import type { FlowResult, Profile } from './runLoad.js';

const ratio = (a: number, b: number) => (b ? Math.round((a / b) * 100) / 100 : 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return 0;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 100) / 100;
};

/** The overhead, scale and goal tables from the flow records (the goals are issue 12's, on total CPU). */
export function compareFlows(opts: { flows: FlowResult[]; profiles: Profile[]; accountsSmall: number; accountsLarge: number }): Pick<BenchReport, 'overhead' | 'scale' | 'goals'> {
  const { flows, profiles, accountsSmall, accountsLarge } = opts;
  const production = profiles[profiles.length - 1]!;
  const onedoor = (flow: string, profile: Profile, accounts: number) => flows.filter((f) => f.target === 'onedoor' && f.flow === flow && f.profile === profile && f.accounts === accounts);
  const bare = flows.filter((f) => f.target === 'bare');

  const overhead = profiles.flatMap((profile) => bare.flatMap((b) => {
    const o = onedoor(b.flow, profile, accountsSmall)[0];
    return o ? [{ flow: b.flow, profile, onedoorCpuMs: o.cpuMsPerOp, onedoorTotalCpuMs: o.totalCpuMsPerOp, bareCpuMs: b.totalCpuMsPerOp, processRatio: ratio(o.cpuMsPerOp, b.cpuMsPerOp), ratio: ratio(o.totalCpuMsPerOp, b.totalCpuMsPerOp) }] : [];
  }));

  const scaleNames = [...new Set(flows.filter((f) => f.target === 'onedoor' && f.profile === production && f.accounts === accountsLarge).map((f) => f.flow))];
  const scale: ScaleRow[] = scaleNames.flatMap((flow) => {
    const small = onedoor(flow, production, accountsSmall);
    const large = onedoor(flow, production, accountsLarge);
    if (!small.length || !large.length) return [];
    const p99 = (rs: FlowResult[]) => rs.map((r) => r.p99Ms);
    const p99Small = median(p99(small));
    const p99Large = median(p99(large));
    const cpuSmall = median(small.map((r) => r.totalCpuMsPerOp));
    const cpuLarge = median(large.map((r) => r.totalCpuMsPerOp));
    return [{
      flow, profile: production, runs: Math.min(small.length, large.length), p99Small, p99Large,
      p99SmallRange: [Math.min(...p99(small)), Math.max(...p99(small))], p99LargeRange: [Math.min(...p99(large)), Math.max(...p99(large))],
      p99Ratio: ratio(p99Large, p99Small), cpuSmall, cpuLarge, cpuRatio: ratio(cpuLarge, cpuSmall),
    }];
  });

  const goals: Goal[] = [];
  const mine = overhead.filter((o) => o.profile === production);
  const tokenFlows = ['code redemption', 'refresh', 'introspection', 'userinfo', 'client credentials'];
  for (const o of mine.filter((x) => tokenFlows.includes(x.flow))) goals.push({ what: `${o.flow}: OneDoor / bare total CPU`, goal: '≤ 1.5×', measured: `${o.ratio}×`, met: o.ratio <= 1.5 });
  // Bare oidc-provider has no token exchange: it is held to bare's refresh, the nearest grant.
  const exchange = onedoor('token exchange', production, accountsSmall)[0];
  const bareRefresh = bare.find((b) => b.flow === 'refresh');
  if (exchange && bareRefresh) {
    const r = ratio(exchange.totalCpuMsPerOp, bareRefresh.totalCpuMsPerOp);
    goals.push({ what: 'token exchange: OneDoor / bare refresh total CPU', goal: '≤ 1.5×', measured: `${r}×`, met: r <= 1.5 });
  }
  const signIn = mine.find((x) => x.flow === 'full sign-in');
  if (signIn) goals.push({ what: 'full sign-in: OneDoor / bare total CPU', goal: '≤ 2×', measured: `${signIn.ratio}×`, met: signIn.ratio <= 2 });
  const signInFlow = onedoor('full sign-in', production, accountsSmall)[0];
  if (signInFlow) goals.push({ what: 'full sign-in per core of total CPU', goal: '≥ 250/s', measured: `${signInFlow.totalPerCore.toLocaleString('en-US')}/s`, met: signInFlow.totalPerCore >= 250 });
  for (const o of mine.filter((x) => x.flow === 'discovery' || x.flow === 'jwks')) goals.push({ what: `${o.flow}: OneDoor / bare total CPU`, goal: '≤ 1.2×', measured: `${o.ratio}×`, met: o.ratio <= 1.2 });
  for (const s of scale) goals.push({ what: `${s.flow}: p99 at ${accountsLarge.toLocaleString('en-US')} vs ${accountsSmall.toLocaleString('en-US')}`, goal: '≤ 1.2×', measured: `${s.p99Ratio}×`, met: s.p99Ratio <= 1.2 });
  return { overhead, scale, goals };
}
