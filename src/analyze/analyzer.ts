/**
 * The analysis stage: decoded packets in, an Analysis out. TCP goes to the TcpTracker, UDP and
 * ICMP to the UdpTracker; decode errors and truncation are counted. Times are seconds since the
 * capture's first packet. With keepSegments false the per-packet path allocates nothing beyond
 * new connections and flows.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { IPPROTO_TCP } from '../decode/packet.js';
import type { ReadSummary } from '../capture/record.js';
import type { Analysis, SegmentRecord, TcpConnection } from './model.js';
import { TcpTracker } from './tcp-tracker.js';
import { UdpTracker } from './udp-flows.js';

export const MAX_KEPT_ERRORS = 100;

export interface AnalyzerOptions {
  file: string;
  keepSegments: boolean;
  /** Live mode: called after every TCP segment (seg is null unless segments are kept). */
  onUpdate?: (conn: TcpConnection, seg: SegmentRecord | null) => void;
}

export class Analyzer {
  private readonly tcp: TcpTracker;
  private readonly udp = new UdpTracker();
  private firstSec = -1;
  private firstNsec = 0;
  private packets = 0;
  private decodeErrors = 0;
  private truncated = 0;
  private errors: Analysis['errors'] = [];

  constructor(private readonly opts: AnalyzerOptions) {
    this.tcp = new TcpTracker(opts.keepSegments, opts.onUpdate);
  }

  onPacket(p: DecodedPacket): void {
    this.packets++;
    if (this.firstSec < 0) {
      this.firstSec = p.tsSec;
      this.firstNsec = p.tsNsec;
    }
    const t = p.tsSec - this.firstSec + (p.tsNsec - this.firstNsec) / 1e9;
    p.t = t;
    if (p.truncated) this.truncated++;
    if (p.error !== null) {
      this.decodeErrors++;
      if (this.errors.length < MAX_KEPT_ERRORS) {
        this.errors.push({ packet: p.index, layer: p.error.layer, message: `${p.error.message} (byte ${p.error.offset} of the packet, record at file offset ${p.fileOffset})` });
      }
    }
    if (p.net === 0 || p.srcOffset < 0) return;
    if (p.proto === IPPROTO_TCP) {
      // A usable TCP header: ports, seq/ack and flags decoded (tcpHeaderLength set), no lie in it.
      if (p.l4Offset < 0 || p.tcpHeaderLength < 20 || (p.error !== null && p.error.layer === 'tcp')) return;
      this.tcp.onPacket(p);
    } else {
      this.udp.onPacket(p, t);
    }
  }

  /**
   * The Analysis. Without kept segments, `tcp` is built on first access (all model objects at
   * once); a writer that wants them one at a time uses tcpConnections(analysis) instead.
   */
  finish(summary: ReadSummary): Analysis {
    const tracker = this.tcp;
    tracker.close();
    const a: Omit<Analysis, 'tcp'> & { tcp?: TcpConnection[] } = {
      file: this.opts.file,
      format: summary.format,
      linkType: summary.linkType,
      packets: this.packets,
      decodeErrors: this.decodeErrors,
      truncated: this.truncated,
      firstTime: this.firstSec < 0 ? null : this.firstSec + this.firstNsec / 1e9,
      faults: summary.faults,
      errors: this.errors,
      udp: this.udp.finish(),
      icmp: this.udp.icmp,
    };
    const lazy: Lazy = { tracker, tcp: null };
    Object.defineProperty(a, 'tcp', {
      enumerable: true,
      configurable: true,
      get: () => (lazy.tcp ??= Array.from({ length: tracker.count }, (_, i) => tracker.model(i))),
      set: (x: TcpConnection[]) => void (lazy.tcp = x),
    });
    const analysis = a as Analysis;
    sources.set(analysis, lazy);
    return analysis;
  }
}

interface Lazy {
  tracker: TcpTracker;
  tcp: TcpConnection[] | null; // once built (or set), the truth
}
const sources = new WeakMap<Analysis, Lazy>();

/** The TCP connections of an analysis, one at a time, without holding all model objects at once. */
export interface TcpConnectionSource {
  count: number;
  at(i: number): TcpConnection;
  /**
   * Connection i's names and numbers in one object reused for every call, valid until the next
   * (its lists are empty and its steps null unless the connection was kept): for a writer that
   * walks a million connections without building a model object for each.
   */
  peek(i: number): TcpConnection;
}

export function tcpConnections(a: Analysis): TcpConnectionSource {
  const lazy = sources.get(a);
  // Once `tcp` was read or set (or for an Analysis made elsewhere) the array is the truth.
  if (lazy === undefined || lazy.tcp !== null) {
    const tcp = a.tcp;
    return { count: tcp.length, at: (i) => tcp[i]!, peek: (i) => tcp[i]! };
  }
  const t = lazy.tracker;
  return { count: t.count, at: (i) => t.model(i), peek: (i) => t.peek(i) };
}
