/**
 * Where each lost datagram died. Per datagram first, from independent evidence:
 *   1. its send failed (the sender's callback said so)              -> send-error
 *   2. the loss rule's NFLOG capture holds one of its packets       -> injected-loss
 *   3. it never showed up in the receiver's capture (complete only) -> before-receiver
 *   4. it reached the receiving host whole and was not read         -> inside the host
 * The "inside the host" datagrams are then counted against the kernel's own counters: the
 * socket's drop count (/proc/net/udp, = Udp RcvbufErrors when the buffer was full) and reassembly
 * failures (Ip/Ip6 ReasmFails, less those the injected loss explains). Whatever no source accounts
 * for is `unexplained`: the causes are never made to add up by subtraction alone.
 */
import type { InterfaceScan, NflogScan } from './capture-scan.js';
import type { UdpAttribution, UdpCause, UdpCauseId } from './result.js';

export interface AttributionInput {
  count: number;
  received: Uint8Array; // per seq: 1 when the receiver read it
  failedSends: number[]; // seqs whose send failed
  errorCodes: Record<string, number>;
  iface: InterfaceScan;
  captureComplete: boolean;
  nflog: NflogScan | null;
  ruleDropped: number | null;
  socketDrops: number | null;
  receiverCounters: Record<string, number>;
  senderCounters: Record<string, number>;
  linkDrops: number;
  qdiscDrops: number;
  /** Kernel drop reasons per datagram, when a kernel-event source could tell (the seam). */
  kernelBySeq?: Map<number, string>;
}

/** "SOCKET_RCVBUFF 9991, NOT_SPECIFIED 2" for the seqs of one cause. */
function reasonsOf(seqs: number[], bySeq: Map<number, string>): string {
  const tally = new Map<string, number>();
  let none = 0;
  for (const s of seqs) {
    const r = bySeq.get(s);
    if (r === undefined) none++;
    else tally.set(r, (tally.get(r) ?? 0) + 1);
  }
  const parts = [...tally].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`);
  if (none) parts.push(`no event ${none}`);
  return parts.join(', ');
}

const n = (c: Record<string, number>, k: string): number => c[k] ?? 0;

export function attribute(x: AttributionInput): UdpAttribution {
  const failed = new Uint8Array(x.count);
  for (const s of x.failedSends) if (s >= 0 && s < x.count) failed[s] = 1;
  let lost = 0;
  let sendErrors = 0;
  let injected = 0;
  let injectedPartial = 0; // some of its packets reached reassembly: a ReasmFails each
  let notCaptured = 0;
  let inHost = 0;
  // Only kept when a kernel-event source can name each datagram's drop reason.
  const seqsOf: Partial<Record<'send-error' | 'injected-loss' | 'not-captured' | 'in-host', number[]>> | null = x.kernelBySeq ? {} : null;
  const keep = (k: 'send-error' | 'injected-loss' | 'not-captured' | 'in-host', seq: number): void => {
    if (seqsOf) (seqsOf[k] ??= []).push(seq);
  };
  for (let seq = 0; seq < x.count; seq++) {
    if (x.received[seq]) continue;
    lost++;
    if (failed[seq]) {
      sendErrors++;
      keep('send-error', seq);
    } else if (x.nflog && x.nflog.dropped[seq]! > 0) {
      injected++;
      keep('injected-loss', seq);
      if (x.nflog.dropped[seq]! < x.iface.fragments[seq]!) injectedPartial++;
    } else if (x.iface.reached[seq] === 0) {
      notCaptured++;
      keep('not-captured', seq);
    } else {
      inHost++;
      keep('in-host', seq);
    }
  }
  const rc = x.receiverCounters;
  const sc = x.senderCounters;
  const reasmFails = n(rc, 'Ip.ReasmFails') + n(rc, 'Ip6.ReasmFails');
  const reasmTimeouts = n(rc, 'Ip.ReasmTimeout') + n(rc, 'Ip6.ReasmTimeout');
  const rcvbufErrors = n(rc, 'Udp.RcvbufErrors') + n(rc, 'Udp6.RcvbufErrors');
  const sndbufErrors = n(sc, 'Udp.SndbufErrors') + n(sc, 'Udp6.SndbufErrors');
  const notes: string[] = [];

  // When the capture missed packets, a datagram it did not see may still have reached the host.
  let pool = inHost + (x.captureComplete ? 0 : notCaptured);
  const socketDrops = x.socketDrops ?? rcvbufErrors;
  const rcvbuf = Math.min(pool, socketDrops);
  pool -= rcvbuf;
  const reasmOther = Math.min(pool, Math.max(0, reasmFails - injectedPartial));
  pool -= reasmOther;
  let before = x.captureComplete ? notCaptured : 0;
  if (!x.captureComplete) {
    const bySender = Math.min(pool, sndbufErrors + x.linkDrops + x.qdiscDrops);
    before += bySender;
    pool -= bySender;
    if (notCaptured > 0) notes.push(`the capture missed packets (tcpdump's kernel drops): ${notCaptured} lost datagrams it did not see were counted by the kernel's counters instead`);
  }
  if (socketDrops > rcvbuf) notes.push(`the socket counted ${socketDrops} drops but only ${rcvbuf} lost datagrams reached the host whole`);
  if (x.nflog && x.ruleDropped !== null && x.ruleDropped !== x.nflog.packets) {
    notes.push(`the rule's counter says ${x.ruleDropped} packets, its NFLOG capture holds ${x.nflog.packets}`);
  }
  if (x.nflog && x.nflog.unresolved > 0) notes.push(`${x.nflog.unresolved} dropped packets could not be tied to a datagram`);

  const codes = Object.entries(x.errorCodes).map(([k, v]) => `${k} ${v}`).join(', ');
  const causes: UdpCause[] = [
    { cause: 'send-error', datagrams: sendErrors, evidence: sendErrors ? `the send callback reported ${codes}` : 'no send callback reported an error' },
    {
      cause: 'before-receiver',
      datagrams: before,
      evidence: `${x.captureComplete ? `${notCaptured} never appeared in the receiver's capture; ` : ''}Udp SndbufErrors +${sndbufErrors} (qdisc drops the kernel hides from the sender), qdisc drops +${x.qdiscDrops}, interface drops +${x.linkDrops}`,
    },
    {
      cause: 'injected-loss',
      datagrams: injected,
      evidence: x.nflog
        ? `the loss rule dropped ${x.ruleDropped ?? x.nflog.packets} packets (nft counter), its NFLOG capture ties them to ${injected} datagrams`
        : 'no loss rule',
    },
    {
      cause: 'reassembly',
      datagrams: reasmOther,
      evidence: `ReasmFails +${reasmFails}, ReasmTimeout +${reasmTimeouts}${injectedPartial ? ` (${injectedPartial} datagrams the rule left incomplete account for some)` : ''}${reasmFails > reasmTimeouts + injectedPartial ? '; under reassembly memory pressure every dropped fragment counts as a failure' : ''}`,
    },
    {
      cause: 'receive-buffer',
      datagrams: rcvbuf,
      evidence: `the socket's drop count ${x.socketDrops ?? 'n/a'} (/proc/net/udp), Udp RcvbufErrors +${rcvbufErrors}`,
    },
  ];
  if (seqsOf && x.kernelBySeq) {
    const say = (id: UdpCauseId, seqs: number[] | undefined): void => {
      const c = causes.find((k) => k.cause === id)!;
      if (seqs?.length) c.evidence += `; kfree_skb: ${reasonsOf(seqs, x.kernelBySeq!)}`;
    };
    say('send-error', seqsOf['send-error']);
    say('injected-loss', seqsOf['injected-loss']);
    say('before-receiver', seqsOf['not-captured']);
    say(reasmOther > 0 && rcvbuf === 0 ? 'reassembly' : 'receive-buffer', seqsOf['in-host']);
  }
  const explained = causes.reduce((s, c) => s + c.datagrams, 0);
  return { lost, causes, explained, unexplained: lost - explained, notes };
}
