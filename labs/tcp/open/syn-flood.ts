/**
 * A SYN flood: crafted SYNs from forged addresses at a listener with a small backlog, then a real
 * client. Four rounds, one listener each: no defence (the real client waits), a shorter SYN-ACK
 * timeout, a larger backlog, SYN cookies (the real client connects at once).
 */
import { check, connFacts, defineLab, ms, secs, TcpState, type CraftSpec, type LabRunContext } from '../../../src/lab/index.js';
import type { SocketEntry } from '../../../src/observe/types.js';

const ROUNDS = ['none', 'short-timeout', 'big-backlog', 'cookies'] as const;
type Round = (typeof ROUNDS)[number];
const FORGED = 16; // forged source addresses (each many ports)
const BOGUS_MAC = '02:00:00:00:00:99';

const forgedAddr = (family: number, i: number): string => (family === 6 ? `fd00::${(0x100 + i).toString(16)}` : `10.0.0.${100 + i}`);

interface RoundData {
  round: Round;
  port: number;
  backlog: number;
  synRecv: number; // SYN_RCVD entries for this listener once the flood was in
  counters: Record<string, number>; // deltas over the flood and the real client's attempt
  connected: boolean;
}

async function floodRound(ctx: LabRunContext, round: Round, backlog: number, flood: number): Promise<RoundData> {
  const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0, backlog }, `listener-${round}`);
  const port = Number((await server.next('listening')).port);
  const local = ctx.endpoint('server', port);
  const synRecv = (all: SocketEntry[]): number => all.filter((s) => s.local === local && s.state === TcpState.SYN_RCVD).length;
  // The real client's process is up before the flood, so its SYN leaves the moment the lab says.
  const client = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port, deferConnect: true }, `client-${round}`);
  await client.next('ready');
  const before = await ctx.counters('server');
  const syns: CraftSpec[] = Array.from({ length: flood }, (_, i) => ({
    src: forgedAddr(ctx.family, i % FORGED), dst: ctx.addr('server'), sport: 1024 + Math.floor(Math.random() * 60000), dport: port,
    seq: Math.floor(Math.random() * 2 ** 32), flags: ['SYN'], mss: 1460,
  }));
  await ctx.craft('client', syns);
  // The flood is in when the listener holds as many half-open entries as its backlog lets it.
  const table = await ctx.waitForSockets('server', (all) => synRecv(all) >= Math.min(flood, backlog), 10_000);
  ctx.mark(`flood in: ${round}`);
  client.send({ do: 'connect' });
  let connected = true;
  if (round === 'none') {
    // No defence: the real client is still in SYN_SENT after its second retransmission. Stop there.
    await ctx.waitForSocket('client', (s) => s.remote === local && s.state === TcpState.SYN_SENT && s.retransmits >= 2, 15_000);
    connected = client.all('connected').length > 0;
    client.send({ do: 'destroy' });
  } else {
    await client.next('connected', 15_000);
  }
  const after = await ctx.counters('server');
  const counters: Record<string, number> = {};
  for (const k of ['TcpExt.TCPReqQFullDrop', 'TcpExt.SyncookiesSent', 'TcpExt.SyncookiesRecv', 'TcpExt.ListenDrops']) counters[k] = (after[k] ?? 0) - (before[k] ?? 0);
  return { round, port, backlog, synRecv: synRecv(table), counters, connected };
}

export default defineLab({
  name: 'syn-flood',
  title: 'A SYN flood from forged addresses, and the three defences measured',
  topic: 'tcp/open',
  seconds: 8,
  needs: ['root', 'tcpdump'],
  topology: { kind: 'veth' },
  params: {
    backlog: { type: 'int', default: 8, min: 2, max: 64, help: "the listener's backlog, which also bounds its half-open queue" },
    flood: { type: 'int', default: 40, min: 8, max: 500, help: 'forged SYNs per round' },
  },
  sysctls: { 'net.ipv4.tcp_syncookies': 0, 'net.ipv4.tcp_synack_retries': 5 },
  timeoutMs: 60_000,
  explanation: `The attacker sends SYNs with forged source addresses. The server answers each with a
SYN-ACK that goes nowhere (here: to a made-up MAC address, so no host answers RST) and keeps a
half-open request (SYN_RCVD, the kernel's SYN_RECV) for each, resending SYN-ACKs for a minute (tcp_synack_retries 5). On
Linux the half-open queue of a listener is bounded by its listen() backlog. Once it is full, with SYN
cookies off, every further SYN is dropped silently (TcpExt TCPReqQFullDrop): a real client is not
refused, it just hears nothing and retransmits its SYN, waiting until a half-open entry times out.
Three defences, one round each: a shorter SYN-ACK timeout (tcp_synack_retries 1: entries expire after
3 s), a backlog larger than the flood, and SYN cookies (tcp_syncookies, on by default in Linux): when
the queue is full the server encodes the connection in the ISN of its SYN-ACK and keeps nothing, so the
real client connects at once (TcpExt SyncookiesSent).`,

  async run(ctx) {
    const { backlog, flood } = ctx.params;
    // The forged sources get permanent neighbour entries with a MAC nobody has: the SYN-ACKs leave and
    // vanish (no ARP failure clears the requests, no RST comes back).
    const neigh = Array.from({ length: FORGED }, (_, i) => `ip ${ctx.family === 6 ? '-6 ' : ''}neigh replace ${forgedAddr(ctx.family, i)} lladdr ${BOGUS_MAC} dev eth0 nud permanent`);
    await ctx.exec('server', ['sh', '-c', neigh.join(' && ')]);
    const rounds: RoundData[] = [];
    rounds.push(await floodRound(ctx, 'none', backlog, flood));
    await ctx.exec('server', ['sysctl', '-qw', 'net.ipv4.tcp_synack_retries=1']);
    rounds.push(await floodRound(ctx, 'short-timeout', backlog, flood));
    await ctx.exec('server', ['sysctl', '-qw', 'net.ipv4.tcp_synack_retries=5']);
    rounds.push(await floodRound(ctx, 'big-backlog', flood * 2, flood));
    await ctx.exec('server', ['sysctl', '-qw', 'net.ipv4.tcp_syncookies=1']);
    rounds.push(await floodRound(ctx, 'cookies', backlog, flood));
    ctx.mark('rounds', { rounds });
  },

  facts(ctx, setup) {
    const rounds = (ctx.mark('rounds')?.data?.rounds ?? []) as RoundData[];
    if (!setup.expect('all four rounds ran', rounds.length === 4, rounds.length, 4)) return null;
    const by = Object.fromEntries(rounds.map((r) => [r.round, r])) as Record<Round, RoundData>;
    const realSyn = (r: RoundData) => {
      const c = ctx.connectionsTo(r.port).find((x) => x.clientAddr === ctx.addr('client'));
      return c ? connFacts(c).handshake : null;
    };
    const hs = Object.fromEntries(ROUNDS.map((r) => [r, realSyn(by[r])])) as Record<Round, ReturnType<typeof realSyn>>;
    if (!setup.expect("each round's real client was captured", ROUNDS.every((r) => hs[r]?.syn), ROUNDS.filter((r) => !hs[r]?.syn), [])) return null;
    // From the capture: the real client's first SYN to its SYN-ACK (or, unanswered, to its last SYN).
    const connectMs = (r: Round): number | null => (hs[r]!.synAck ? (hs[r]!.synAck!.time - hs[r]!.syn!.time) * 1000 : null);
    const syns = (r: Round): number => 1 + hs[r]!.synRetransmits.length;
    const lastSyn = hs.none!.synRetransmits[hs.none!.synRetransmits.length - 1] ?? hs.none!.syn!;
    const unansweredS = lastSyn.time - hs.none!.syn!.time;
    return { by, hs, connectMs, syns, unansweredS, backlog: ctx.params.backlog, flood: ctx.params.flood };
  },

  claims: {
    H11: ({ by, hs, connectMs, syns, unansweredS, backlog, flood }) => {
      const none = by.none;
      return {
        checks: [
          check.within(`no defence: the flood filled the half-open queue up to the backlog (${backlog})`, none.synRecv, backlog - 1, backlog + 1),
          check.ok('no defence: the SYNs beyond it were dropped (TCPReqQFullDrop)', none.counters['TcpExt.TCPReqQFullDrop']! >= flood - backlog - 1, none.counters['TcpExt.TCPReqQFullDrop'], `>= ${flood - backlog - 1}`),
          check.ok('no defence: the real client got no answer and kept retransmitting its SYN (not refused: no RST)', !none.connected && hs.none!.synAck === null && syns('none') >= 3, [none.connected, syns('none')], [false, '>= 3 SYNs'], [hs.none!.syn!.packet]),
          check.within('shorter SYN-ACK timeout (tcp_synack_retries 1): the real client got in once the forged entries expired (~3 s)', (connectMs('short-timeout') ?? NaN) / 1000, 1.5, 6),
          check.eq('larger backlog: every forged SYN got a half-open entry', by['big-backlog'].synRecv, flood),
          check.ok('larger backlog: the real client connected at once', by['big-backlog'].connected && (connectMs('big-backlog') ?? Infinity) < 200, connectMs('big-backlog'), '< 200 ms'),
          check.ok('SYN cookies: the server answered the overflow with cookies (SyncookiesSent)', by.cookies.counters['TcpExt.SyncookiesSent']! >= 1, by.cookies.counters['TcpExt.SyncookiesSent'], '>= 1'),
          check.ok('SYN cookies: the real client connected at once', by.cookies.connected && (connectMs('cookies') ?? Infinity) < 200, connectMs('cookies'), '< 200 ms'),
        ],
        evidence: `backlog ${backlog}, ${flood} forged SYNs per round. No defence: ${none.synRecv} SYN_RCVD entries, TCPReqQFullDrop +${none.counters['TcpExt.TCPReqQFullDrop']}, the real client sent ${syns('none')} SYNs over ${secs(unansweredS)} and got no answer. ` +
          `tcp_synack_retries 1: it connected ${secs((connectMs('short-timeout') ?? NaN) / 1000)} after its first SYN (${syns('short-timeout')} SYNs). Backlog ${by['big-backlog'].backlog}: ${by['big-backlog'].synRecv} SYN_RCVD entries and it connected in ${ms((connectMs('big-backlog') ?? NaN) / 1000)}. ` +
          `SYN cookies: SyncookiesSent +${by.cookies.counters['TcpExt.SyncookiesSent']}, it connected in ${ms((connectMs('cookies') ?? NaN) / 1000)}`,
        differs: {
          textbook: 'real clients are refused',
          linux: 'their SYNs are dropped silently: the client is not refused but waits, retransmitting its SYN, until a half-open entry expires (about 63 s with the default tcp_synack_retries 5); SYN cookies are on by default',
          measured: `${syns('none')} unanswered SYNs over ${secs(unansweredS)}`,
        },
      };
    },
  },

  story: ({ by, connectMs, syns, unansweredS }) =>
    `${by.none.synRecv} half-open (SYN_RECV in ss) sockets on one listener with backlog ${by.none.backlog} are the flood's fingerprint (ss -tan state syn-recv). ` +
    `Without a defence the real client heard nothing for ${secs(unansweredS)}, sending ${syns('none')} SYNs; its kernel would keep trying for about a minute. ` +
    `A shorter SYN-ACK timeout let it in after ${secs((connectMs('short-timeout') ?? NaN) / 1000)}, a backlog above the flood at once (${ms((connectMs('big-backlog') ?? NaN) / 1000)}), ` +
    `and SYN cookies at once too (${ms((connectMs('cookies') ?? NaN) / 1000)}) while keeping no state for the forged SYNs beyond the backlog: that is why Linux ships with tcp_syncookies = 1.`,
});
