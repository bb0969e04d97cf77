/**
 * The terminal report of one UDP experiment: the iperf3 numbers first, then where each lost
 * datagram died. Draws what the engine found; computes nothing new.
 */
import path from 'node:path';
import { formatRate } from './params.js';
import { formatPercent, type UdpCauseId, type UdpResult } from './result.js';

const CAUSE_TEXT: Record<UdpCauseId, string> = {
  'send-error': 'the send failed',
  'before-receiver': 'lost before the receiver',
  'injected-loss': 'the loss rule dropped it',
  reassembly: 'reassembly failed',
  'receive-buffer': 'the receive buffer was full',
};

function sendingMode(r: UdpResult): string {
  const p = r.params;
  if (p.rate === 'max') return 'as fast as the sender can';
  return `${formatRate(p.rate)} datagrams/s, ${p.pace ? 'paced (evenly spaced)' : 'in bursts every ~1 ms (iperf3-style catch-up)'}`;
}

function header(r: UdpResult): string[] {
  const p = r.params;
  const where = p.topology === 'loopback' ? 'loopback' : p.topology === 'veth' ? 'two hosts on a veth pair' : 'client - router - server';
  const work = p.workUs > 0 ? `, the receiver works ${p.workUs} µs per datagram ${p.reader === 'queue' ? 'in a worker thread (reads into a queue)' : 'between reads'}` : '';
  const loss = p.loss > 0 ? `, ${p.loss}% random loss per packet at the receiver's input` : '';
  return [
    `wirelab udp: ${p.count} datagrams of ${p.size} bytes, ${sendingMode(r)}, IPv${p.family} over ${where}${p.mtu ? ` (MTU ${p.mtu})` : ''}${work}${loss}`,
    `receive buffer: ${r.rcvbuf.effective} bytes: ${r.rcvbuf.explanation}`,
  ];
}

export function renderUdpText(r: UdpResult, cwd = process.cwd()): string {
  const s = r.sender;
  const v = r.receiver;
  const lines = header(r);
  lines.push('');
  const errs = Object.entries(s.errorCodes).map(([k, n]) => `${k} ${n}`).join(', ');
  const rate = s.attempted > 1 ? ` in ${s.seconds.toFixed(3)} s (${formatRate(Math.round(s.ratePerSec))}/s)` : '';
  lines.push(`  sender    ${s.attempted} datagram${s.attempted === 1 ? '' : 's'}${rate}, ${s.errors} send errors${errs ? ` (${errs})` : ''}, ${Math.round(s.cpuMs)} ms CPU`);
  if (s.queuedMax > 0) {
    lines.push(`            the socket's send buffer filled (EAGAIN): libuv held up to ${s.queuedMax} sends and retried them; the last send completed ${s.callbackSeconds.toFixed(3)} s after the first`);
  }
  lines.push(
    `  receiver  ${v.received} received   lost ${v.lost}/${s.attempted} (${v.lossText})   out of order ${v.outOfOrder}   duplicates ${v.duplicates}   jitter ${v.jitterMs.toFixed(3)} ms   ${Math.round(v.cpuMs)} ms CPU`,
  );
  const a = r.attribution;
  lines.push('');
  if (a.lost === 0) lines.push('no datagram was lost.');
  else {
    lines.push(`where the ${a.lost} lost datagrams died:`);
    const w = Math.max(...Object.values(CAUSE_TEXT).map((t) => t.length), 'unexplained'.length);
    const nw = String(a.lost).length;
    for (const c of a.causes) {
      if (c.datagrams === 0) continue;
      lines.push(`  ${CAUSE_TEXT[c.cause].padEnd(w)}  ${String(c.datagrams).padStart(nw)}   ${c.evidence}`);
    }
    lines.push(`  ${'unexplained'.padEnd(w)}  ${String(a.unexplained).padStart(nw)}${a.unexplained === 0 ? '   (the causes add up to the loss)' : '   (no counter or capture accounts for these)'}`);
  }
  for (const n of a.notes) lines.push(`  note: ${n}`);
  const f = r.fragments;
  if (f.packetsPerDatagram > 1.001) {
    lines.push(`fragments: each datagram crossed the wire as ${f.packetsPerDatagram} IP packets (${f.fragmentedDatagrams} fragmented datagrams seen)`);
  }
  if (f.model) {
    const k = f.model.packetsPerDatagram;
    lines.push(
      `model: per-packet loss P = ${f.model.perPacketLossPercent}% over k = ${k} packet${k === 1 ? '' : 's'} per datagram: 1-(1-P)^k = ${f.model.predictedLossPercent.toPrecision(3)}% predicted; the rule killed ${formatPercent(f.model.measuredLossPercent)} of the datagrams`,
    );
  }
  if (r.capture.icmpTimeExceeded || r.capture.icmpUnreachable) {
    lines.push(`icmp at the receiver: ${r.capture.icmpTimeExceeded} time exceeded (reassembly gave up), ${r.capture.icmpUnreachable} unreachable`);
  }
  if (r.kernelReasons) {
    const list = Object.entries(r.kernelReasons).map(([k, n]) => `${k} ${n}`).join(', ');
    lines.push(`kernel drop reasons (kfree_skb): ${list || 'none'}`);
  }
  const c = r.capture;
  lines.push(
    `capture: ${path.relative(cwd, c.file)} (tcpdump: ${c.packets} packets, ${c.droppedByKernel ?? '?'} dropped by kernel${c.complete ? '' : '; INCOMPLETE: per-datagram evidence from it is partial'})` +
      (c.nflogFile ? `; dropped by the rule: ${path.relative(cwd, c.nflogFile)}` : ''),
  );
  return lines.join('\n');
}
