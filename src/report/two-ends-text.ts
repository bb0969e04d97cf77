/** The merged two-host report for people: each connection from both ends, with one-way delays. */
import type { StateTransition } from '../analyze/model.js';
import type { DelayStats, TwoEnds, TwoEndsConnection } from '../analyze/two-ends.js';
import { flagsText } from './text.js';

const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(3)} ms`);

function delayLine(what: string, d: DelayStats, unseen: number): string {
  const seen = d.count ? `${d.count} segment(s), min ${ms(d.minMs)}, median ${ms(d.medianMs)}, max ${ms(d.maxMs)}` : 'no segment seen at both ends';
  return `  one-way delay ${what}: ${seen}${unseen ? `; ${unseen} sent but never seen by the other end` : ''}`;
}

function statePath(t: StateTransition[]): string {
  return t.length === 0 ? 'CLOSED' : [t[0]!.from, ...t.map((x) => x.to)].join(' -> ');
}

function renderConnection(c: TwoEndsConnection): string {
  const lines: string[] = [];
  const by = c.pairedBy === 'isn' ? `the same ISNs at both ends (client ${c.clientIsn}, server ${c.serverIsn})` : 'their endpoints (no handshake captured)';
  lines.push(`TCP ${c.client} -> ${c.server}: paired by ${by}`);
  lines.push(delayLine('client -> server', c.oneWay.clientToServer, c.unseen.clientToServer));
  lines.push(delayLine('server -> client', c.oneWay.serverToClient, c.unseen.serverToClient));
  lines.push(`  handshake RTT: ${ms(c.rttMs.client)} measured at the client (SYN -> SYN-ACK), ${ms(c.rttMs.server)} at the server (SYN-ACK -> ACK)`);
  lines.push(`  client states (its own capture): ${statePath(c.states.client)}`);
  lines.push(`  server states (its own capture): ${statePath(c.states.server)}`);
  lines.push('');
  lines.push('    sent (s)   client#      server#  segment                          one-way     meaning (at the sender)');
  const t0 = c.segments.find((s) => s.sentAt !== null)?.sentAt ?? 0;
  for (const s of c.segments) {
    const at = s.sentAt ?? s.receivedAt;
    const cp = s.clientPacket === null ? '-' : `#${s.clientPacket}`;
    const sp = s.serverPacket === null ? '-' : `#${s.serverPacket}`;
    const arrow = s.from === 'client' ? '  ---->  ' : '  <----  ';
    const ack = s.flags & 0x10 ? ` ack ${s.relAck}` : '';
    const seg = `${flagsText(s.flags)} seq ${s.relSeq}${ack} len ${s.len}`;
    const delay = s.delayMs !== null ? ms(s.delayMs) : s.receivedAt === null ? 'not received' : 'not sent?';
    lines.push(
      `  ${at === null ? '' : (at - t0).toFixed(6).padStart(10)}  ${cp.padStart(7)}${arrow}${sp.padEnd(7)}  ${seg.padEnd(32)} ${delay.padStart(12)}  ${s.meaning}`,
    );
  }
  return lines.join('\n');
}

export function renderTwoEnds(t: TwoEnds): string {
  const out: string[] = [`the same connection(s) seen from both ends: client host ${t.clientFile}, server host ${t.serverFile}`];
  out.push('one-way delay = the time a segment appears in the receiver\'s capture minus the time in the sender\'s (exact on one machine\'s clock; across machines, as good as their clock sync)');
  for (const c of t.connections) out.push('', renderConnection(c));
  if (!t.connections.length) out.push('', 'no connection appears in both captures');
  if (t.unpaired.client.length) out.push('', `only in the client host's capture: ${t.unpaired.client.join(', ')}`);
  if (t.unpaired.server.length) out.push('', `only in the server host's capture: ${t.unpaired.server.join(', ')}`);
  return out.join('\n');
}
