/**
 * A LAN against a lossy path: the same datagrams over a clean veth pair (the LAN) and across a router
 * whose far side drops P% of packets at random (the "internet"): small datagrams (one packet), large
 * ones (six fragments), and the small ones again paced evenly instead of sent in bursts.
 */
import { check, defineLab, differenceBound, type UdpResult } from '../../src/lab/index.js';
import { attributionChecks, cause, lossLine, modelCheck, packetsFor, pct } from './loss-facts.js';

const SMALL = 500;
const LARGE = 8000;
const MTU = 1500;
const NAMES = ['lan', 'wan-small', 'wan-large', 'wan-paced'] as const;
type Name = (typeof NAMES)[number];

export default defineLab({
  name: 'wan-loss',
  title: 'A LAN loses nothing, a lossy path loses P per packet: small, large and paced datagrams',
  topic: 'udp',
  seconds: 6,
  needs: ['root', 'tcpdump', 'nft'],
  topology: { kind: 'veth', mtu: MTU },
  params: {
    loss: { type: 'number', default: 2, min: 0.5, max: 20, help: 'per-packet loss in percent on the lossy path' },
    count: { type: 'int', default: 2000, min: 500, max: 50_000, help: 'small datagrams per experiment (the large ones: half as many)' },
  },
  timeoutMs: 240_000, // ~5 s of work at a light load; 150-170 s measured at a load average of 110-140
  explanation: `The LAN: two hosts on a veth pair, MTU 1500, nothing in the way. The lossy path: client,
router, server, where the server's input drops each packet with probability P, independently, the way a
congested or noisy link far away does (an nftables numgen rule; every packet it drops is logged, so
each lost datagram is named). ${SMALL}-byte datagrams travel in one packet and are lost with probability
P; ${LARGE}-byte ones are cut by the sending host into 6 fragments and die when any one is lost:
1-(1-P)^6. Pacing (one datagram every 1/rate seconds instead of a burst every millisecond) spares a
queue that overflows, but a random drop does not care how the packets are spaced. Over IPv6 the
sending host fragments too (IPv6 routers never fragment; there is no DF bit).`,

  async run(ctx) {
    const { loss, count } = ctx.params;
    const clean = { rcvbuf: 4 << 20 }; // room for every datagram: only the path may lose them
    await Promise.all([
      ctx.udp('lan', { size: LARGE, count: Math.round(count / 4), rate: 2000, ...clean }, { title: `the LAN: ${LARGE}-byte datagrams, no loss` }),
      ctx.udp('wan-small', { topology: 'router', size: SMALL, count, rate: 5000, loss, ...clean }, { title: `lossy path, ${SMALL}-byte datagrams in bursts` }),
      ctx.udp('wan-large', { topology: 'router', size: LARGE, count: Math.round(count / 2), rate: 2500, loss, ...clean }, { title: `lossy path, ${LARGE}-byte datagrams` }),
      ctx.udp('wan-paced', { topology: 'router', size: SMALL, count, rate: 5000, pace: true, loss, ...clean }, { title: `lossy path, ${SMALL}-byte datagrams paced` }),
    ]);
  },

  facts(ctx) {
    const r = Object.fromEntries(NAMES.map((n) => [n, ctx.udp(n)])) as Record<Name, UdpResult>;
    const P = ctx.params.loss;
    const kLarge = packetsFor(LARGE, MTU, ctx.family);
    const small = modelCheck('small datagrams', r['wan-small'], P, 1);
    const large = modelCheck(`${LARGE}-byte datagrams`, r['wan-large'], P, kLarge);
    const paced = modelCheck('paced small datagrams', r['wan-paced'], P, 1);
    const diff = paced.measured - small.measured;
    const diffBound = differenceBound(P, r['wan-small'].sender.attempted, r['wan-paced'].sender.attempted);
    return { r, P, kLarge, small, large, paced, diff, diffBound, family: ctx.family };
  },

  claims: {
    U05: ({ r, P, kLarge, small, large, paced, diff, diffBound }) => ({
      checks: [
        check.eq('the LAN lost nothing', r.lan.receiver.lost, 0),
        check.eq(`the LAN carried each ${LARGE}-byte datagram in ${kLarge} fragments`, r.lan.fragments.packetsPerDatagram, kLarge),
        small.check,
        large.check,
        check.ok('large datagrams lost more than small ones on the same path', large.measured > small.measured, [large.measured, small.measured], 'large > small'),
        paced.check,
        check.within(`pacing did not change the random loss (paced - burst, within 4 sd of the difference of two ${P}% rates)`, diff, -diffBound, diffBound),
        check.eq('on the lossy path every lost datagram was the rule\'s', NAMES.slice(1).map((n) => r[n].receiver.lost - cause(r[n], 'injected-loss')), [0, 0, 0]),
      ],
      evidence: `LAN (veth, MTU ${MTU}): ${lossLine(r.lan)}, ${r.lan.fragments.packetsPerDatagram} fragments per datagram. Lossy path, ${P}% per packet: ` +
        `${SMALL} bytes in bursts ${lossLine(r['wan-small'])} (model ${pct(small.predicted)}); ${LARGE} bytes in ${kLarge} fragments ${lossLine(r['wan-large'])} (model ${pct(large.predicted)}); ` +
        `${SMALL} bytes paced ${lossLine(r['wan-paced'])}: paced - burst = ${diff.toFixed(2)} points (band ±${diffBound.toFixed(2)})`,
      differs: {
        textbook: 'smaller datagrams and pacing help on a lossy path',
        linux: 'smaller datagrams help only because they are fewer packets (a datagram in k fragments dies at 1-(1-P)^k); pacing does nothing against random loss (it helps where a queue overflows: bursts into a full buffer)',
        measured: `${pct(small.measured)} lost in one packet, ${pct(large.measured)} in ${kLarge} fragments, ${pct(paced.measured)} paced; the LAN ${r.lan.receiver.lost}`,
      },
    }),
  },

  checks: ({ r }) => attributionChecks(r),

  story: ({ r, P, kLarge, small, large, paced, family }) =>
    `The LAN delivered all ${r.lan.sender.attempted} datagrams of ${LARGE} bytes, even in ${kLarge} fragments each. Across the router that drops ${P}% of packets, ` +
    `${SMALL}-byte datagrams lost ${pct(small.measured)} (one packet: P itself), ${LARGE}-byte ones ${pct(large.measured)} (1-(1-P)^${kLarge} = ${pct(large.predicted)}: any lost fragment kills the datagram), ` +
    `and pacing the small ones 1/${r['wan-paced'].params.rate} s apart changed nothing (${pct(paced.measured)}). Every one of the ${r['wan-small'].receiver.lost + r['wan-large'].receiver.lost + r['wan-paced'].receiver.lost} lost datagrams is in the rule's log. ` +
    `${family === 6 ? 'Over IPv6 the sending host fragmented the large ones (routers never do). ' : ''}Smaller datagrams help against random loss only by being fewer packets; pacing helps against a full queue, not against a noisy path.`,
});
