/**
 * The terminal report for people: per TCP connection a header (client, server, handshake, close
 * kind, who holds TIME_WAIT, counts), a line per kept segment (time, direction, tcpdump-style
 * flags, relative seq/ack, length, window, options, the meaning in plain words), the ladder
 * diagram; then UDP flows, ICMP events, and the faults and decode errors with their offsets.
 * Plain functions returning strings: everything printed comes from the Analysis.
 */
import type { Analysis, OptionSummary, SegmentRecord, TcpConnection, UdpFlow, IcmpEvent } from '../analyze/model.js';
import { tcpFlagsText } from '../decode/describe.js';
import { ACK } from '../decode/packet.js';
import { renderLadder, type LadderStyle } from './ladder.js';

export interface TextOptions {
  /** Only this TCP connection (tcp.stream id). */
  stream?: number;
  /** Draw the ladder diagram under each connection (default true). */
  ladder?: boolean;
  /** The ladder's width and colour (a terminal's; plain and 120 wide by default). */
  style?: LadderStyle;
}

export function flagsText(flags: number): string {
  return `[${tcpFlagsText(flags)}]`;
}

export function optionsText(o: OptionSummary): string {
  const parts: string[] = [];
  if (o.mss !== undefined) parts.push(`mss ${o.mss}`);
  if (o.sackPermitted) parts.push('sackOK');
  if (o.timestamps) parts.push(`TS val ${o.timestamps[0]} ecr ${o.timestamps[1]}`);
  if (o.wscale !== undefined) parts.push(`wscale ${o.wscale}`);
  if (o.sack) parts.push(`sack ${o.sack.map(([l, r]) => `{${l}:${r}}`).join('')}`);
  if (o.tfo !== undefined) parts.push(o.tfo === '' ? 'tfo cookiereq' : `tfo cookie ${o.tfo}`);
  for (const u of o.unknown ?? []) parts.push(`opt-${u.kind} ${u.hex}`);
  if (o.malformed !== undefined) parts.push(`malformed: ${o.malformed}`);
  return parts.length === 0 ? '' : `<${parts.join(',')}>`;
}

/** One segment on one line (also used live: `#id <line>`). */
export function renderSegmentLine(s: SegmentRecord): string {
  const dir = s.from === 'client' ? 'C -> S' : 'C <- S';
  const ack = s.flags & ACK ? ` ack ${s.relAck}` : '';
  const opts = optionsText(s.options);
  return `${s.time.toFixed(6).padStart(12)} ${dir} ${flagsText(s.flags).padEnd(6)} seq ${s.relSeq}${ack} len ${s.len} win ${s.window}${opts ? ` ${opts}` : ''}  ${s.meaning}`;
}


export function renderConnectionHeader(c: TcpConnection): string {
  const h = c.handshake;
  const lines: string[] = [];
  const encap = c.encapsulation.length === 0 ? '' : `, in ${c.encapsulation.join(' + ')}`;
  lines.push(`TCP #${c.id}  client ${c.client}  ->  server ${c.server}  (IPv${c.family}${encap})`);
  if (c.start === 'syn-ack') lines.push('  picked up at the SYN-ACK: the client\'s SYN was not captured (its SYN_SENT is assumed, not seen)');
  else if (c.start === 'mid-stream') {
    const assumed = c.statePath.client[0] === 'ESTABLISHED' ? ': both sides\' ESTABLISHED is assumed, not seen' : '';
    lines.push(`  picked up mid-stream: the capture began after the handshake${assumed}`);
  }
  const hs = h.complete
    ? `complete, RTT ${h.rttMs === null ? '?' : h.rttMs.toFixed(3)} ms`
    : 'incomplete';
  const isn = `ISN client ${h.clientIsn ?? '-'} server ${h.serverIsn ?? '-'}`;
  const rex = [
    h.synRetransmits ? `SYN sent at ${h.synTimes.map((t) => t.toFixed(3)).join(', ')} s (${h.synRetransmits} retransmitted)` : '',
    h.synAckRetransmits ? `SYN-ACK sent at ${h.synAckTimes.map((t) => t.toFixed(3)).join(', ')} s (${h.synAckRetransmits} retransmitted)` : '',
    h.dataInSyn ? 'data in the SYN (TCP Fast Open)' : '',
    h.dataInThirdSegment ? 'data in the third segment' : '',
  ].filter((x) => x !== '');
  lines.push(`  handshake: ${hs}; ${isn}${rex.length ? `; ${rex.join('; ')}` : ''}`);
  const init = c.close.initiator === null ? '' : `, initiated by the ${c.close.initiator}`;
  const tw = c.timeWait === null ? 'nobody in TIME_WAIT at the end' : c.timeWait === 'both' ? 'both sides in TIME_WAIT' : `the ${c.timeWait} holds TIME_WAIT`;
  lines.push(`  close: ${c.close.kind}${init}; ${tw}`);
  lines.push(
    `  ${c.packets} packets; bytes client ${c.bytes.client}, server ${c.bytes.server}; retransmissions ${c.retransmissions}, resets ${c.resets}, dup ACKs ${c.dupAcks}, zero windows ${c.zeroWindows}, out of order ${c.outOfOrder}, not captured ${c.lostSegments}`,
  );
  lines.push(`  client states: ${c.statePath.client.join(' -> ')}`);
  lines.push(`  server states: ${c.statePath.server.join(' -> ')}`);
  return lines.join('\n');
}

export function renderConnection(c: TcpConnection, opts: TextOptions = {}): string {
  const out = [renderConnectionHeader(c)];
  if (c.segments.length > 0) {
    out.push('');
    for (const s of c.segments) out.push(renderSegmentLine(s));
    if (opts.ladder !== false) {
      out.push('');
      out.push(renderLadder(c, opts.style));
    }
  }
  return out.join('\n');
}

export function renderUdpFlow(u: UdpFlow): string {
  const frag = u.fragmented ? `; ${u.fragmented} fragmented, ${u.incomplete} never complete (a fragment missing)` : '';
  const sizes = u.datagrams ? `; sizes ${u.sizes.min}..${u.sizes.max}` : '';
  return `UDP #${u.id}  ${u.src} -> ${u.dst}: ${u.datagrams} datagrams, ${u.bytes} bytes${sizes}${frag}`;
}

export function renderIcmp(e: IcmpEvent): string {
  const mtu = e.mtu !== null ? ` mtu ${e.mtu}` : '';
  const q = e.quoted !== null ? ` about ${e.quoted}` : '';
  return `ICMP  packet ${e.packet} at ${e.time.toFixed(6)} s: ${e.from} -> ${e.to} ${e.kind} (type ${e.type} code ${e.code})${mtu}${q}`;
}

export function renderText(a: Analysis, opts: TextOptions = {}): string {
  const out: string[] = [];
  out.push(`${a.file}: ${a.format ?? 'not a capture'}, link type ${a.linkType}, ${a.packets} packets, ${a.tcp.length} TCP connections, ${a.udp.length} UDP flows` +
    (a.decodeErrors ? `, ${a.decodeErrors} decode errors` : '') + (a.truncated ? `, ${a.truncated} truncated` : ''));
  const conns = opts.stream === undefined ? a.tcp : a.tcp.filter((c) => c.id === opts.stream);
  for (const c of conns) {
    out.push('');
    out.push(renderConnection(c, opts));
  }
  if (opts.stream === undefined) {
    if (a.udp.length > 0) {
      out.push('');
      for (const u of a.udp) out.push(renderUdpFlow(u));
    }
    if (a.icmp.length > 0) {
      out.push('');
      for (const e of a.icmp) out.push(renderIcmp(e));
    }
  }
  if (a.faults.length > 0 || a.errors.length > 0) {
    out.push('');
    for (const f of a.faults) out.push(`fault at byte ${f.offset}${f.fatal ? ' (reading stopped)' : ''}: ${f.code}: ${f.message}`);
    for (const e of a.errors) out.push(`decode error in packet ${e.packet} (${e.layer}): ${e.message}`);
    if (a.decodeErrors > a.errors.length) out.push(`... and ${a.decodeErrors - a.errors.length} more decode errors`);
  }
  return out.join('\n');
}
