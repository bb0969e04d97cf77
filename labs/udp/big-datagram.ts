/**
 * Big datagrams: the exact size limit (65507 bytes of payload over IPv4, 65527 over IPv6; one more
 * is EMSGSIZE), and what really becomes of a 50 KB datagram: one packet on loopback (MTU 65536),
 * ~35 fragments on an Ethernet MTU (1500), delivered whole when nothing is lost, killed whole at
 * 1-(1-P)^k when each fragment is lost with probability P, and dropped when the receive buffer is full.
 */
import { readFileSync } from 'node:fs';
import { check, defineLab, type UdpResult } from '../../src/lab/index.js';
import { attributionChecks, cause, lossLine, modelCheck, packetsFor, pct, reassemblyCheck, rx } from './loss-facts.js';

const BIG = 50_000;
const MTU = 1500;
/** What a 50 KB datagram costs in a receive buffer, at most (34-35 fragments of ~2.3 KB truesize each). */
const TRUESIZE = 100_000;
const PROBE = [1472, BIG, ...Array.from({ length: 31 }, (_, i) => 65_500 + i)];
const limitOf = (family: 4 | 6): number => (family === 6 ? 65_527 : 65_507);

function rmemMax(): number {
  try {
    return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim()) || 212_992;
  } catch {
    return 212_992;
  }
}

interface Probe {
  results: { size: number; ok: boolean; code: string | null }[];
  received: [number, number][];
}

export default defineLab({
  name: 'big-datagram',
  title: 'How big a UDP datagram can be, and what really happens to a 50 KB one',
  topic: 'udp',
  seconds: 6,
  needs: ['root', 'tcpdump', 'nft'],
  topology: { kind: 'veth', mtu: MTU },
  params: {
    loss: { type: 'number', default: 1, min: 0.1, max: 10, help: 'per-packet (so per-fragment) loss in percent for the fragment-loss experiment' },
    count: { type: 'int', default: 300, min: 50, max: 2000, help: '50 KB datagrams sent in the fragment-loss experiment' },
  },
  timeoutMs: 240_000, // ~5 s of work at a light load; 150-170 s measured at a load average of 110-140
  explanation: `A UDP datagram travels in one IP packet, and an IP packet is at most 65535 bytes: IPv4's
total-length field counts its own 20-byte header, so 65535 - 20 - 8 (UDP header) = 65507 bytes of payload;
IPv6's payload-length field does not count its 40-byte header, so 65535 - 8 = 65527. One byte more and
sendto() fails with EMSGSIZE: nothing is sent. Below that the kernel fragments what does not fit the
MTU. On loopback (MTU 65536) a 50 KB datagram is one packet. On Ethernet (MTU 1500) it becomes ~35
fragments; the receiver's kernel reassembles them and delivers the datagram whole, or, when any one
fragment is lost, throws the others away after ipfrag_time (ReasmFails): with a per-fragment loss P a
datagram of k fragments dies with probability 1-(1-P)^k. IPv4 fragments at the sender here (node cannot
set DF on a datagram bigger than the MTU, so it goes out in fragments without DF); IPv6 always fragments
at the sender, with a fragment header, and routers never fragment IPv6. Finally each 50 KB datagram
takes ~80 KB of the receive buffer, so the default (212992 bytes) holds two or three of them while the
reader is busy.`,

  async run(ctx) {
    const { loss, count } = ctx.params;
    // The experiments run side by side, each in namespaces of its own (the lab's own hosts the size
    // probe). The lossy one gets room for reassembly queues: the 1 s each incomplete one waits would
    // otherwise fill the default 4 MB of ipfrag_high_thresh and drop datagrams that lost nothing.
    const fresh = { fresh: true };
    const big = Math.min(1 << 20, rmemMax());
    const burst = Math.max(4, Math.min(12, Math.floor((2 * big) / TRUESIZE) - 1));
    ctx.mark('buffers', { big, burst });
    const experiments = Promise.all([
      ctx.udp('loopback', { topology: 'loopback', size: BIG, count: 100, rate: 1000, rcvbuf: 4 << 20 }, { title: 'loopback, MTU 65536' }),
      ctx.udp('ethernet', { size: BIG, count: 100, rate: 1000, rcvbuf: 4 << 20 }, { ...fresh, title: `Ethernet MTU ${MTU}, no loss` }),
      ctx.udp('fragment-loss', { size: BIG, count, rate: 1000, rcvbuf: 4 << 20, loss }, {
        title: `Ethernet MTU ${MTU}, ${loss}% of packets dropped`,
        sysctls: { 'net.ipv4.ipfrag_high_thresh': 64 << 20, 'net.ipv6.ip6frag_high_thresh': 64 << 20 },
      }),
      // A busy reader (5 ms per datagram) and a burst: the default buffer against one that holds the burst.
      ctx.udp('default-buffer', { size: BIG, count: burst, rate: 'max', workUs: 5000, rcvbuf: null }, { ...fresh, title: 'busy reader, default receive buffer' }),
      ctx.udp('bigger-buffer', { size: BIG, count: burst, rate: 'max', workUs: 5000, rcvbuf: big }, { ...fresh, title: 'busy reader, a buffer that holds the burst' }),
    ]);
    // Awaited below; until then a failed experiment must not be an unhandled rejection (it ended the process).
    experiments.catch(() => null);
    // The size limit, measured: one datagram of each size from 65500 to 65530 bytes (and 1472, 50000).
    const rcv = ctx.program('server', 'udp-size-probe', { mode: 'receive', addr: ctx.addr('server'), family: ctx.family }, 'probe-receiver');
    const port = Number((await rcv.next('ready', 30_000)).port);
    const snd = ctx.program('client', 'udp-size-probe', { mode: 'send', addr: ctx.addr('server'), family: ctx.family, port, sizes: PROBE }, 'probe-sender');
    const sent = await snd.next('sent', 20_000);
    rcv.send({ do: 'report', quietMs: 200 });
    const got = await rcv.next('received', 20_000);
    ctx.mark('probe', { results: sent.results, received: got.sizes });
    await experiments;
  },

  facts(ctx, setup) {
    const probe = ctx.mark('probe')?.data as unknown as Probe | undefined;
    const buffers = ctx.mark('buffers')?.data as { big: number; burst: number } | undefined;
    if (!setup.expect('the size probe reported', !!probe && !!buffers)) return null;
    const names = ['loopback', 'ethernet', 'fragment-loss', 'default-buffer', 'bigger-buffer'] as const;
    const r = Object.fromEntries(names.map((n) => [n, ctx.udp(n)])) as Record<(typeof names)[number], UdpResult>;
    const limit = limitOf(ctx.family);
    const ok = probe!.results.filter((x) => x.ok).map((x) => x.size);
    const refused = probe!.results.filter((x) => !x.ok);
    const largest = Math.max(...ok);
    const smallestRefused = refused.length ? Math.min(...refused.map((x) => x.size)) : null;
    const refusedCodes = [...new Set(refused.map((x) => x.code))];
    const receivedSizes = new Map(probe!.received);
    const k = packetsFor(BIG, MTU, ctx.family);
    const kLimit = packetsFor(limit, MTU, ctx.family);
    const model = modelCheck('fragment-loss', r['fragment-loss'], ctx.params.loss, k);
    const bigHolds = r['bigger-buffer'].rcvbuf.effective >= buffers!.burst * TRUESIZE;
    return { r, limit, largest, smallestRefused, refusedCodes, receivedSizes, ok, k, kLimit, model, buffers: buffers!, bigHolds, family: ctx.family };
  },

  claims: {
    U08: ({ limit, largest, smallestRefused, refusedCodes, receivedSizes, ok, kLimit, family }) => ({
      checks: [
        check.eq(`the largest payload sendto() took is ${limit} bytes (IPv${family})`, largest, limit),
        check.eq(`the smallest it refused is ${limit + 1}`, smallestRefused, limit + 1),
        check.eq('every refusal was EMSGSIZE', refusedCodes, ['EMSGSIZE']),
        check.eq('every size it took arrived, once and whole', ok.filter((s) => receivedSizes.get(s) !== 1), []),
        check.eq(`nothing of a refused size reached the receiver`, [...receivedSizes.keys()].filter((s) => s > limit), []),
      ],
      evidence: `IPv${family}: payloads up to ${largest} bytes were sent and arrived whole (${limit} bytes crossed MTU ${MTU} as ${kLimit} fragments); ` +
        `${smallestRefused} bytes failed at once with ${refusedCodes.join(', ')} and nothing was sent. ` +
        (family === 6
          ? `65527 = 65535 (IPv6's payload-length field, which leaves out its 40-byte header) - 8 (UDP header); over IPv4 the limit is 65507`
          : `65507 = 65535 (IPv4's total-length field, its own 20-byte header included) - 20 - 8 (UDP header); over IPv6 it is 65527`),
    }),
    U02: ({ r, k, model, buffers, bigHolds, family }) => {
      const lo = r.loopback;
      const eth = r.ethernet;
      const lossy = r['fragment-loss'];
      const small = r['default-buffer'];
      const bigger = r['bigger-buffer'];
      const partialTimeouts = rx(lossy, 'ReasmTimeout');
      return {
        checks: [
          check.eq('loopback: every 50 KB datagram arrived', lo.receiver.lost, 0),
          check.eq('loopback: one packet per datagram (MTU 65536)', lo.fragments.packetsPerDatagram, 1),
          check.eq('Ethernet: every 50 KB datagram arrived', eth.receiver.lost, 0),
          check.eq(`Ethernet: each crossed the wire as ${k} IPv${family} fragments`, eth.fragments.packetsPerDatagram, k),
          model.check,
          reassemblyCheck('fragment loss', lossy, lossy.params.loss, k),
          check.ok('busy reader, default buffer: datagrams were lost, every one to the full receive buffer', small.receiver.lost > 0 && cause(small, 'receive-buffer') === small.receiver.lost, [small.receiver.lost, cause(small, 'receive-buffer')], '> 0, all receive-buffer'),
          bigHolds
            ? check.eq(`busy reader, a ${bigger.rcvbuf.effective}-byte buffer: nothing lost`, bigger.receiver.lost, 0)
            : check.ok(`busy reader, a ${bigger.rcvbuf.effective}-byte buffer (rmem_max caps it below the burst): fewer lost`, bigger.receiver.lost < small.receiver.lost, bigger.receiver.lost, `< ${small.receiver.lost}`),
        ],
        evidence: `loopback: ${lo.receiver.received} of ${lo.sender.attempted} 50 KB datagrams arrived, ${lo.fragments.packetsPerDatagram} packet each; ` +
          `Ethernet MTU ${MTU}: ${eth.receiver.received} of ${eth.sender.attempted} arrived, ${eth.fragments.packetsPerDatagram} fragments each; ` +
          `with ${lossy.params.loss}% of packets dropped: ${lossLine(lossy)}; model 1-(1-P)^${k} = ${pct(model.predicted)}, the rule killed ${pct(model.measured)} (4 sd band ${pct(model.lo)}..${pct(model.hi)}); ReasmTimeout +${partialTimeouts}. ` +
          `A reader busy 5 ms per datagram, burst of ${buffers.burst}: default ${small.rcvbuf.effective}-byte buffer ${lossLine(small)}; ${bigger.rcvbuf.effective}-byte buffer ${lossLine(bigger)}`,
        differs: {
          textbook: 'datagrams over about 50 KB get lost',
          linux: 'size alone loses nothing: a 50 KB datagram arrives whole unless one of its fragments is lost (then the whole datagram dies, at 1-(1-P)^k) or the receive buffer is full (each takes ~80 KB of it)',
          measured: `${eth.receiver.received}/${eth.sender.attempted} delivered in ${k} fragments; ${pct(model.measured)} lost at ${lossy.params.loss}% fragment loss (model ${pct(model.predicted)}); ${small.receiver.lost}/${small.sender.attempted} lost to a full default buffer, ${bigger.receiver.lost} with ${bigger.rcvbuf.effective} bytes`,
        },
      };
    },
  },

  checks: ({ r }) => attributionChecks(r),

  story: ({ r, k, limit, model, family }) =>
    `The kernel refused ${limit + 1} bytes with EMSGSIZE before sending anything; ${limit} bytes went out and arrived. ` +
    `A 50 KB datagram was one packet on loopback and ${k} IPv${family} fragments on the veth (${family === 6 ? 'cut by the sending host: IPv6 routers never fragment, and there is no DF bit' : 'cut by the sending host, DF clear'}), and all ${r.ethernet.sender.attempted} arrived. ` +
    `Dropping ${r['fragment-loss'].params.loss}% of packets killed ${pct(model.measured)} of the datagrams (${pct(model.predicted)} predicted): one lost fragment is enough, and the other ${k - 1} waited ${1} s in a reassembly queue before the kernel gave up. ` +
    `A reader busy 5 ms per datagram lost ${r['default-buffer'].receiver.lost} of ${r['default-buffer'].sender.attempted} with the default buffer and ${r['bigger-buffer'].receiver.lost} with ${r['bigger-buffer'].rcvbuf.effective} bytes. Split big datagrams because of loss and buffers, not because size itself is lost.`,
});
