/**
 * Small readers the loss labs (big-datagram, wan-loss, mtu-fragments) share over one UDP
 * experiment's result: datagrams charged to a cause, the attribution check every run makes, the
 * fragment count a size gives on an MTU, and the model check with a binomial tolerance.
 */
import { binomialBound, check, fragmentModel, type Check, type UdpResult } from '../../src/lab/index.js';
import type { UdpCauseId } from '../../src/udp/result.js';

export const cause = (r: UdpResult, id: UdpCauseId): number => r.attribution.causes.find((c) => c.cause === id)?.datagrams ?? 0;

/** Counter delta at the receiver, IPv4 and IPv6 names added ("ReasmFails" -> Ip.ReasmFails + Ip6.ReasmFails). */
export function rx(r: UdpResult, name: string): number {
  const c = r.counters.receiver;
  return (c[`Ip.${name}`] ?? 0) + (c[`Ip6.${name}`] ?? 0);
}

/** "1% loss: 87 of 300 lost (29%): injected-loss 87" */
export function lossLine(r: UdpResult): string {
  const causes = r.attribution.causes.filter((c) => c.datagrams > 0).map((c) => `${c.cause} ${c.datagrams}`).join(', ');
  return `${r.receiver.lost} of ${r.sender.attempted} lost (${r.receiver.lossText})${causes ? `: ${causes}` : ''}`;
}

/** Every experiment: the causes add up to the loss (0 unexplained). */
export function attributionChecks(named: Record<string, UdpResult>): Check[] {
  return Object.entries(named).map(([name, r]) =>
    check.eq(`${name}: every lost datagram has a cause (${r.attribution.lost} lost, ${r.attribution.explained} explained)`, r.attribution.unexplained, 0));
}

/**
 * Packets one datagram of `size` payload bytes becomes on an MTU: IPv4 carries 20 bytes of header
 * per fragment, IPv6 40 plus an 8-byte fragment header once fragmented; fragment data is a multiple of 8.
 */
export function packetsFor(size: number, mtu: number, family: 4 | 6): number {
  const udp = size + 8;
  const ip = family === 6 ? 40 : 20;
  if (udp + ip <= mtu) return 1;
  const perFrag = Math.floor((mtu - ip - (family === 6 ? 8 : 0)) / 8) * 8;
  return Math.ceil(udp / perFrag);
}

/** The rule's datagram loss against 1-(1-P)^k, within z = 4 binomial standard deviations for this sample. */
export function modelCheck(label: string, r: UdpResult, perPacket: number, k: number): { check: Check; predicted: number; measured: number; lo: number; hi: number } {
  const predicted = fragmentModel(perPacket, k);
  const measured = (100 * cause(r, 'injected-loss')) / r.sender.attempted;
  const b = binomialBound(predicted, r.sender.attempted);
  return {
    check: check.within(`${label}: datagrams the rule killed (%) within 4 binomial sd of 1-(1-${perPacket}%)^${k} = ${predicted.toFixed(1)}% over ${r.sender.attempted} datagrams`, measured, +b.lo.toFixed(2), +b.hi.toFixed(2)),
    predicted, measured, lo: b.lo, hi: b.hi,
  };
}

export const pct = (x: number): string => `${+x.toPrecision(3)}%`;

/**
 * Each datagram the rule hit leaves a reassembly queue that times out (ReasmTimeout), unless the rule
 * took every one of its k packets (no queue was ever made): count * P^k of them, give or take 4 sd.
 */
export function reassemblyCheck(label: string, r: UdpResult, perPacket: number, k: number): Check {
  const injected = cause(r, 'injected-loss');
  const whole = r.sender.attempted * Math.pow(perPacket / 100, k);
  const slack = Math.ceil(whole + 4 * Math.sqrt(whole) + 2);
  return check.within(`${label}: each datagram the rule hit left a reassembly queue that timed out (ReasmTimeout), but those it took whole (~${whole.toFixed(1)})`, rx(r, 'ReasmTimeout'), Math.max(0, injected - slack), injected);
}
