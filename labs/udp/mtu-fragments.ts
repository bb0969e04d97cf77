/**
 * Within the MTU or not: across a router with MTU 1500, the largest payload that fits one packet
 * (1472 over IPv4 with DF set, 1452 over IPv6), one byte more (two fragments) and 4000 bytes (three),
 * each with the same per-packet loss P: the datagram loss against 1-(1-P)^k, the reassembly failures
 * the receiver counts, and the ICMP "reassembly time exceeded" the sender gets back.
 */
import { check, defineLab, type UdpResult } from '../../src/lab/index.js';
import { attributionChecks, lossLine, modelCheck, packetsFor, pct, reassemblyCheck, rx } from './loss-facts.js';
import { wireShape, type WireShape } from './wire-shape.js';

const MTU = 1500;
const NAMES = ['fits', 'one-byte-more', 'three-fragments'] as const;
type Name = (typeof NAMES)[number];
/** The largest payload in one packet: MTU - IP header - UDP header (IPv6's header is 40 bytes). */
const fits = (family: 4 | 6): number => MTU - (family === 6 ? 40 : 20) - 8;
const sizesFor = (family: 4 | 6): Record<Name, number> => ({ fits: fits(family), 'one-byte-more': fits(family) + 1, 'three-fragments': 4000 });

function icmp(r: UdpResult): { sender: number; receiver: number } {
  const s = r.counters.sender;
  const v = r.counters.receiver;
  return {
    sender: (s['Icmp.InTimeExcds'] ?? 0) + (s['Icmp6.InTimeExcds'] ?? 0),
    receiver: (v['Icmp.OutTimeExcds'] ?? 0) + (v['Icmp6.OutTimeExcds'] ?? 0),
  };
}

export default defineLab({
  name: 'mtu-fragments',
  title: 'Within the MTU or not: one packet, two fragments, three, under the same packet loss',
  topic: 'udp',
  seconds: 6,
  needs: ['root', 'tcpdump', 'nft'],
  topology: { kind: 'router', mtu: MTU },
  params: {
    loss: { type: 'number', default: 10, min: 1, max: 30, help: 'per-packet (so per-fragment) loss in percent at the receiver' },
    count: { type: 'int', default: 1000, min: 200, max: 20_000, help: 'datagrams per size' },
  },
  timeoutMs: 240_000, // ~5 s of work at a light load; 150-170 s measured at a load average of 110-140
  explanation: `Client, router and server, every link MTU 1500. A UDP payload of MTU - 28 bytes (1472 over
IPv4: 20-byte IP header, 8-byte UDP header) fits one packet, and Linux sends it with DF set (path MTU
discovery: a router would answer "fragmentation needed" rather than cut it). One byte more and the
sending host cuts the datagram in two fragments (DF clear); 4000 bytes make three. Over IPv6 the header is
40 bytes, so 1452 fits and 1453 does not; IPv6 has no DF bit because only the sending host may
fragment (with a fragment header; a router never does, it answers "packet too big"), and every IPv6 link
carries at least 1280 bytes: the "1280 to be safe" rule. The server's input drops each packet with
probability P. The receiving kernel keeps the fragments of a datagram in a reassembly queue; if one is
missing after ipfrag_time (set to 1 s here instead of 30) it drops the others (ReasmTimeout, ReasmFails)
and, if it had the first fragment, sends ICMP "fragment reassembly time exceeded" back to the sender,
rate-limited per destination (icmp_ratelimit: 1 s, a burst of 6). A datagram in k packets arrives only if
all k do: 1-(1-P)^k of them are lost.`,

  async run(ctx) {
    const { loss, count } = ctx.params;
    const sizes = sizesFor(ctx.family);
    // Each size gets its own loss rule, so its own namespaces: the first runs in the lab's, the others beside it.
    const results = await Promise.all(NAMES.map((name) =>
      ctx.udp(name, { size: sizes[name], count, rate: 5000, rcvbuf: 4 << 20, loss }, { title: `${sizes[name]}-byte payload, ${loss}% packet loss` })));
    const shapes: Record<string, WireShape> = {};
    for (let i = 0; i < NAMES.length; i++) shapes[NAMES[i]!] = await wireShape(results[i]!.capture.file);
    ctx.mark('shapes', { shapes });
  },

  facts(ctx, setup) {
    const shapes = ctx.mark('shapes')?.data?.shapes as Record<Name, WireShape> | undefined;
    if (!setup.expect("every experiment's capture was read", !!shapes)) return null;
    const sizes = sizesFor(ctx.family);
    const r = Object.fromEntries(NAMES.map((n) => [n, ctx.udp(n)])) as Record<Name, UdpResult>;
    const k = Object.fromEntries(NAMES.map((n) => [n, packetsFor(sizes[n], MTU, ctx.family)])) as Record<Name, number>;
    const models = Object.fromEntries(NAMES.map((n) => [n, modelCheck(n, r[n], ctx.params.loss, k[n])])) as Record<Name, ReturnType<typeof modelCheck>>;
    return { r, k, sizes, models, shapes: shapes!, family: ctx.family, loss: ctx.params.loss };
  },

  claims: {
    U07: ({ r, k, sizes, models, shapes, family, loss }) => {
      const one = shapes.fits;
      const frag = r['three-fragments'];
      const ic = icmp(frag);
      const fragmented = (['one-byte-more', 'three-fragments'] as const);
      return {
        checks: [
          check.eq(`${sizes.fits} bytes: one packet per datagram`, r.fits.fragments.packetsPerDatagram, 1),
          check.eq(`${sizes.fits} bytes: no packet was a fragment`, one.fragments, 0),
          family === 4
            ? check.eq(`${sizes.fits} bytes: every packet had DF set`, one.dontFragment, one.packets)
            : check.eq('IPv6: no DF bit exists (none seen)', one.dontFragment, 0),
          check.eq(`${sizes['one-byte-more']} bytes: 2 fragments per datagram`, r['one-byte-more'].fragments.packetsPerDatagram, k['one-byte-more']),
          check.eq(`4000 bytes: ${k['three-fragments']} fragments per datagram`, frag.fragments.packetsPerDatagram, k['three-fragments']),
          ...(family === 4 ? [check.eq('4000 bytes: no fragment had DF set', shapes['three-fragments'].dontFragment, 0)] : []),
          ...NAMES.map((n) => models[n].check),
          check.eq(`${sizes.fits} bytes: no reassembly, no reassembly failure`, rx(r.fits, 'ReasmFails'), 0),
          ...fragmented.map((n) => reassemblyCheck(`${sizes[n]} bytes`, r[n], loss, k[n])),
          check.ok('4000 bytes: the sender got ICMP time exceeded back across the router (Icmp InTimeExcds), as many as the receiver sent', ic.sender >= 1 && ic.sender === ic.receiver, ic, 'sender >= 1, = receiver'),
          check.ok('4000 bytes: fewer ICMP than failed reassemblies (first fragment needed, rate-limited)', ic.sender <= rx(frag, 'ReasmTimeout'), ic.sender, `<= ${rx(frag, 'ReasmTimeout')}`),
        ],
        evidence: NAMES.map((n) => `${sizes[n]} bytes (${k[n]} packet${k[n] > 1 ? 's' : ''}): ${lossLine(r[n])}, model ${pct(models[n].predicted)}, the rule killed ${pct(models[n].measured)}` +
          (k[n] > 1 ? `, ReasmTimeout +${rx(r[n], 'ReasmTimeout')}` : '')).join('; ') +
          `. ${sizes.fits} bytes went as ${one.packets} packets of ${one.largestIp} bytes${family === 4 ? `, ${one.dontFragment} with DF` : ' (IPv6: no DF bit)'}; ` +
          `the 4000-byte sender got ${ic.sender} ICMP time exceeded for ${rx(frag, 'ReasmTimeout')} failed reassemblies (receiver Icmp OutTimeExcds +${ic.receiver})`,
      };
    },
  },

  checks: ({ r }) => attributionChecks(r),

  story: ({ r, k, sizes, models, family, loss }) => {
    const frag = r['three-fragments'];
    const ic = icmp(frag);
    return `With ${loss}% of packets dropped, ${sizes.fits}-byte datagrams (one packet${family === 4 ? ', DF set' : ''}) lost ${pct(models.fits.measured)}, ` +
      `${sizes['one-byte-more']}-byte ones (${k['one-byte-more']} fragments) ${pct(models['one-byte-more'].measured)}, 4000-byte ones (${k['three-fragments']}) ${pct(models['three-fragments'].measured)}: ` +
      `one byte over the MTU nearly doubled the loss, because one lost fragment kills the whole datagram. ` +
      `The receiver held the surviving fragments of ${rx(frag, 'ReasmTimeout')} datagrams for ipfrag_time and then dropped them (ReasmFails +${rx(frag, 'ReasmFails')}); ` +
      `the sender heard of it only ${ic.sender} times (ICMP time exceeded, sent only when the first fragment arrived and rate-limited per destination). ` +
      (family === 6 ? 'Over IPv6 the sender fragments (there is no DF bit and no router will fragment): keep payloads within 1452 bytes on Ethernet, 1232 on any IPv6 path (1280 - 48).' : 'Keep payloads within 1472 bytes on Ethernet (1500 - 28); over paths with tunnels less.');
  },
});
