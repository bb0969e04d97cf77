/**
 * Initial sequence numbers: many connections side by side (each from another port: unrelated,
 * scattered ISNs), then one 4-tuple used again and again at measured gaps (its ISN grows with the
 * clock). The growth rate is measured against the classic "+1 every 4 µs".
 */
import { check, connFacts, defineLab, type Step } from '../../../src/lab/index.js';

const TEXTBOOK_PER_S = 250_000; // +1 every 4 µs
const LINUX_PER_S = 1e9 / 64; // secure_tcp_seq: hash(4-tuple, secret) + ktime_get_real_ns() >> 6

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}

/** ISNs along one 4-tuple, unwrapped past 2^32 (each step is far below 2^31 here). */
function unwrap(isns: number[]): number[] {
  const out: number[] = [];
  let base = 0;
  isns.forEach((v, i) => {
    if (i > 0 && v + base < out[i - 1]! - 2 ** 31) base += 2 ** 32;
    out.push(v + base);
  });
  return out;
}

const fmtRate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} million/s` : `${Math.round(r).toLocaleString('en')}/s`);

export default defineLab({
  name: 'isn',
  title: 'Initial sequence numbers: different for every connection, growing with the clock',
  topic: 'tcp/open',
  seconds: 3,
  needs: ['root'],
  topology: { kind: 'loopback' },
  params: {
    parallel: { type: 'int', default: 12, min: 3, max: 100, help: 'connections opened side by side, each from another source port' },
    reuses: { type: 'int', default: 6, min: 3, max: 20, help: 'connections over one and the same 4-tuple' },
  },
  explanation: `Every SYN carries an initial sequence number (ISN). The classic story is a global 32-bit
counter that ticks every 4 µs. Linux (RFC 6528) computes it as a keyed hash of the 4-tuple (addresses
and ports, with a secret chosen at boot) plus a clock in units of 64 ns. So connections from different
ports get unrelated ISNs scattered over the whole 32-bit space, and only the same 4-tuple used again
shows the clock: its ISN grows by about 15.6 million per second. An off-path attacker cannot guess an
ISN without the secret. Each connection here is reset as soon as it is established (no TIME_WAIT),
so the same 4-tuple can be used again at the gaps the lab chooses.`,

  async run(ctx) {
    const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 });
    const port = Number((await server.next('listening')).port);
    ctx.mark('port', { port });
    const side = ctx.program('client', 'tcp-connects', { host: ctx.addr('server'), port, localPorts: new Array(ctx.params.parallel).fill(0) }, 'side-by-side');
    await side.next('done');
    // One local port for every reuse: the kernel picked it for the first connection.
    const probe = ctx.program('client', 'tcp-connects', { host: ctx.addr('server'), port, localPorts: [0] }, 'probe');
    const local = Number((await probe.next('open')).local);
    await probe.next('done');
    const gaps = Array.from({ length: ctx.params.reuses }, (_, i) => 40 * 2 ** Math.min(i, 4)); // 40, 80, 160, 320, 640 ms
    const same = ctx.program('client', 'tcp-connects', { host: ctx.addr('server'), port, localPorts: new Array(ctx.params.reuses).fill(local), gapsMs: gaps }, 'same-tuple');
    await same.next('done', 15_000);
    ctx.mark('same tuple', { local });
  },

  facts(ctx, setup) {
    const port = Number(ctx.mark('port')?.data?.port);
    const local = Number(ctx.mark('same tuple')?.data?.local);
    const conns = ctx.connectionsTo(port).map(connFacts);
    const { parallel, reuses } = ctx.params;
    if (!setup.expect(`${parallel + 1 + reuses} connections were captured`, conns.length === parallel + 1 + reuses, conns.length, parallel + 1 + reuses)) return null;
    const syns = conns.map((c) => c.handshake.syn);
    if (!setup.expect('each connection began with a SYN', syns.every(Boolean), syns.filter((s) => !s).length, 0)) return null;
    const side = conns.slice(0, parallel).map((c) => c.handshake.syn!);
    const sameConns = conns.filter((c) => c.conn.clientPort === local);
    if (!setup.expect(`${reuses + 1} connections used the 4-tuple from port ${local}`, sameConns.length === reuses + 1, sameConns.length, reuses + 1)) return null;
    const same = sameConns.map((c) => c.handshake.syn!);
    const serverSame = sameConns.map((c) => c.handshake.synAck).filter((s): s is Step => !!s);
    const t = same.map((s) => s.time);
    const clientRate = slope(t, unwrap(same.map((s) => s.seq)));
    const serverRate = serverSame.length === same.length ? slope(serverSame.map((s) => s.time), unwrap(serverSame.map((s) => s.seq))) : null;
    const sideIsns = side.map((s) => s.seq);
    const increasing = sideIsns.every((v, i) => i === 0 || v > sideIsns[i - 1]!);
    return { side, same, sideIsns, increasing, clientRate, serverRate, span: t[t.length - 1]! - t[0]!, local };
  },

  claims: {
    H07: (f) => {
      const distinct = new Set(f.sideIsns).size;
      const spread = Math.max(...f.sideIsns) - Math.min(...f.sideIsns);
      const sameDistinct = new Set(f.same.map((s) => s.seq)).size;
      return {
        checks: [
          check.eq('every side-by-side connection got a different ISN', distinct, f.sideIsns.length, f.side.map((s) => s.packet)),
          check.ok('side by side the ISNs are unrelated: not increasing in the order the connections opened', !f.increasing, f.sideIsns, 'not sorted', f.side.map((s) => s.packet)),
          check.ok('side by side the ISNs spread over more than a quarter of the 32-bit space', spread > 2 ** 30, spread, `> ${2 ** 30}`),
          check.eq('every reuse of the same 4-tuple got a different ISN', sameDistinct, f.same.length, f.same.map((s) => s.packet)),
          check.near('along one 4-tuple the client ISN grows at 1 per 64 ns (15.625 million/s)', f.clientRate, LINUX_PER_S, { rel: 0.02 }),
          check.near("the server's ISN for that 4-tuple grows at the same rate", f.serverRate, LINUX_PER_S, { rel: 0.02 }),
        ],
        evidence: `${f.sideIsns.length} connections side by side got ${distinct} different ISNs spread over ${(spread / 2 ** 32 * 100).toFixed(0)}% of the 32-bit space, in no order (first ones: ${f.sideIsns.slice(0, 4).join(', ')}); ` +
          `${f.same.length} connections over one 4-tuple (client port ${f.local}) within ${f.span.toFixed(2)} s got ISNs growing at ${fmtRate(f.clientRate)} (server side ${f.serverRate === null ? '?' : fmtRate(f.serverRate)})`,
        differs: {
          textbook: `a counter that ticks every 4 µs (${fmtRate(TEXTBOOK_PER_S)}), the same for all connections`,
          linux: 'a keyed hash of the 4-tuple plus a clock of 64 ns ticks (RFC 6528): unrelated across 4-tuples, 15.625 million/s along one',
          measured: `${fmtRate(f.clientRate)} along one 4-tuple, ${(f.clientRate / TEXTBOOK_PER_S).toFixed(1)} times the textbook rate`,
        },
      };
    },
  },

  story: (f) =>
    `The ${f.sideIsns.length} connections opened side by side got ISNs that jump all over the 32-bit space (${f.sideIsns.slice(0, 3).join(', ')} ...): nothing in one tells you the next. ` +
    `Only the same 4-tuple used again shows the clock underneath: over ${f.span.toFixed(2)} s its ISN rose at ${fmtRate(f.clientRate)}, one per 64 ns, ` +
    `${(f.clientRate / TEXTBOOK_PER_S).toFixed(0)} times faster than the textbook's 4 µs counter. Guessing a connection's ISN needs the boot-time secret behind the hash.`,
});
