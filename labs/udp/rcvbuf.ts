/**
 * U03: loss against SO_RCVBUF. Datagrams of 4000 bytes on an MTU of 1500 (three fragments each,
 * reassembled before the socket) against a receiver of fixed speed (workUs per datagram): one burst
 * of `burst` datagrams into 4 KiB, 64 KiB and 1 MiB buffers (the default's size is net.core.rmem_default), then a long
 * stream (`stream` datagrams, as fast as the sender can) into 1 MiB. The effective buffer is what
 * getsockopt(SO_RCVBUF) said: the kernel doubles the request, clamped at net.core.rmem_max.
 */
import { check, defineLab } from '../../src/lab/index.js';
import { accountingChecks, accountingText, cause, experiment, experiments, lossText, type Exp } from './experiment.js';

const BUFFERS = [
  { name: 'burst-4k', rcvbuf: 4096 },
  { name: 'burst-64k', rcvbuf: 65536 },
  { name: 'burst-1m', rcvbuf: 1 << 20 },
] as const;
const NAMES = [...BUFFERS.map((b) => b.name), 'stream-1m'] as const;

/** What the kernel should give for a request: twice it, after clamping at rmem_max (null: rmem_default as is). */
function expectedEffective(e: Exp): number | null {
  if (e.rcvbuf.requested === null) return e.rcvbuf.rmemDefault;
  if (e.rcvbuf.rmemMax === null) return null;
  return 2 * Math.min(e.rcvbuf.requested, e.rcvbuf.rmemMax);
}

const kib = (n: number): string => `${Math.round(n / 1024)} KiB`;

export default defineLab({
  name: 'rcvbuf',
  title: 'SO_RCVBUF against fragmented datagrams: what 64 KB buys on Linux',
  topic: 'udp',
  seconds: 8,
  // Generous: on a loaded two-core machine (load average 50+) each experiment's programs start slowly; the lab itself needs ~8 s.
  timeoutMs: 180_000,
  needs: ['root', 'tcpdump'],
  topology: { kind: 'loopback', mtu: 1500 },
  captureFilter: 'icmp or icmp6',
  params: {
    size: { type: 'int', default: 4000, min: 1473, max: 12_000, help: 'UDP payload bytes: several times the 1500-byte MTU, so each datagram travels as fragments' },
    burst: { type: 'int', default: 150, min: 20, max: 200, help: 'datagrams in each burst (sent as fast as the sender can); a 1 MiB request (2 MiB) must hold them all' },
    stream: { type: 'int', default: 1500, min: 500, max: 20_000, help: 'datagrams in the long stream into 1 MiB' },
    workUs: { type: 'int', default: 1000, min: 100, max: 10_000, help: 'the receiver works this long per datagram between reads (a receiver of fixed speed)' },
  },
  explanation: `The seed lost datagrams several times the MTU until it set SO_RCVBUF to 64 KB. A UDP socket's receive
buffer is a byte budget, charged with each datagram's truesize (its buffers, not just its payload;
a 4000-byte datagram reassembled from three fragments costs three packets' worth). The kernel doubles
what SO_RCVBUF asks for (half is bookkeeping) and clamps the request at net.core.rmem_max, the host's
value that a namespace cannot raise; without SO_RCVBUF a socket gets net.core.rmem_default (212992
bytes on Linux, already more than 64 KB). Here a receiver that works workUs per datagram between
reads gets one burst of datagrams into three buffers (4 KiB, 64 KiB, 1 MiB), then a long
stream into 1 MiB. A buffer absorbs a burst it can hold; it cannot make a receiver faster.`,

  async run(ctx) {
    const { size, burst, stream, workUs } = ctx.params;
    for (const b of BUFFERS) await experiment(ctx, b.name, { size, count: burst, rate: 'max', workUs, rcvbuf: b.rcvbuf });
    await experiment(ctx, 'stream-1m', { size, count: stream, rate: 'max', workUs, rcvbuf: 1 << 20 });
  },

  facts(ctx, setup) {
    const e = experiments(ctx, setup, NAMES);
    if (!e) return null;
    const frag = e['burst-1m'];
    if (!setup.expect('each datagram crossed the 1500-byte MTU as fragments', frag.receiver.received > 0 && e['stream-1m'].capture.packets > e['stream-1m'].receiver.received, [e['stream-1m'].capture.packets, e['stream-1m'].receiver.received], 'more packets than datagrams')) return null;
    return e;
  },

  claims: {
    U03: (e, ctx) => {
      const b4 = e['burst-4k'], b64 = e['burst-64k'], b1 = e['burst-1m'], s1 = e['stream-1m'];
      const dflt = b64.rcvbuf.rmemDefault;
      const all = NAMES.map((n) => e[n]);
      const perPacket = (x: Exp): string => (x.capture.packets / Math.max(1, x.receiver.received + cause(x, 'receive-buffer'))).toFixed(1);
      return {
        checks: [
          ...all.map((x) => check.eq(`${x.name}: the socket got ${x.rcvbuf.requested === null ? 'net.core.rmem_default' : `twice ${x.rcvbuf.requested} bytes (clamped at rmem_max)`}`, x.rcvbuf.effective, expectedEffective(x))),
          check.ok('the 64 KiB request gave a smaller buffer than no request at all (net.core.rmem_default)', dflt !== null && b64.rcvbuf.effective < dflt, [b64.rcvbuf.effective, dflt], '64k < default'),
          check.ok(`the ${ctx.params.burst}-datagram burst overflowed the 4 KiB buffer`, b4.receiver.lost > 0, b4.receiver.lost, '> 0'),
          check.ok('it overflowed the 64 KiB buffer too: 64 KB did not fix it', b64.receiver.lost > 0, b64.receiver.lost, '> 0'),
          check.eq('the 1 MiB buffer held the whole burst', b1.receiver.lost, 0),
          check.ok(`the long stream (${ctx.params.stream} datagrams against a receiver of at most ${Math.round(1e6 / ctx.params.workUs)}/s) overflowed even 1 MiB`, s1.receiver.lost > 0, s1.receiver.lost, '> 0'),
          check.eq('every lost datagram died in a full receive buffer (none in reassembly)', all.map((x) => cause(x, 'receive-buffer')), all.map((x) => x.receiver.lost)),
        ],
        evidence: `${ctx.params.size}-byte datagrams, ${perPacket(s1)} packets each on the wire, a receiver working ${ctx.params.workUs} µs per datagram: ` +
          all.map((x) => `${x.name} (asked ${x.rcvbuf.requested === null ? 'nothing' : kib(x.rcvbuf.requested)}, got ${x.rcvbuf.effective} bytes): lost ${lossText(x)}`).join('; ') +
          `. ${all.map((x) => accountingText(ctx, x)).join('; ')}`,
        differs: {
          textbook: 'a larger SO_RCVBUF fixes the loss of datagrams several times the MTU (64 KB did)',
          linux: `the kernel doubles SO_RCVBUF (64 KB gives ${b64.rcvbuf.effective} bytes, less than the ${dflt} a socket gets without asking, so on Linux 64 KB shrinks the buffer) and clamps it at rmem_max (${b1.rcvbuf.rmemMax ?? '?'}); ` +
            'a buffer fixes only a burst it can hold, counted in truesize (every fragment\'s buffers), and no buffer fixes a receiver slower than its sender',
          measured: `a ${ctx.params.burst}-datagram burst lost ${b4.receiver.lost} (4k), ${b64.receiver.lost} (64k), ${b1.receiver.lost} (1m); a ${ctx.params.stream}-datagram stream into 1m lost ${s1.receiver.lost}`,
        },
      };
    },
  },

  checks: (e, ctx) => accountingChecks(ctx, NAMES.map((n) => e[n])),

  story: (e, ctx) => {
    const b64 = e['burst-64k'], b1 = e['burst-1m'], s1 = e['stream-1m'];
    return `Each ${ctx.params.size}-byte datagram crossed the 1500-byte MTU as fragments and was charged to the socket whole, fragments' buffers included. ` +
      `A burst of ${ctx.params.burst}: the 4 KiB request (${e['burst-4k'].rcvbuf.effective} bytes) lost ${lossText(e['burst-4k'])}; the seed's 64 KB became ${b64.rcvbuf.effective} bytes, ` +
      `less than the ${b64.rcvbuf.rmemDefault} a socket gets by default here (net.core.rmem_default), and lost ${lossText(b64)}. ` +
      `1 MiB became ${b1.rcvbuf.effective} bytes and held the whole burst (${lossText(b1)}) while the receiver, ${ctx.params.workUs} µs per datagram, worked it off. ` +
      `The same 1 MiB against ${ctx.params.stream} datagrams lost ${lossText(s1)}: a buffer buys time, not speed. 64 KB "fixed it" in the seed only if its bursts fit in 64 KB on a system whose default was smaller.`;
  },
});
