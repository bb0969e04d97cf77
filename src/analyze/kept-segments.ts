/**
 * keepSegments: a worded SegmentRecord per segment (the text report, the ladder, the labs), with
 * the state transitions it caused. Two transitions are dated at other packets than the one that
 * proved them, and their words are written again when that proof comes:
 * - CLOSE_WAIT goes on the FIN that the later ACK proves arrived (the kernel enters it on the FIN);
 * - the server's ESTABLISHED on the handshake's last ACK is held back until the server speaks
 *   (tcp-states.ts): that ACK's words are settled then.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { FIN } from '../decode/packet.js';
import type { SegmentRecord, Side, TcpState } from './model.js';
import type { ConnRare } from './conn-rare.js';
import type { ConnView } from './conn-view.js';
import { describeSegment, type SegmentContext } from './meaning.js';
import { buildSegmentRecord, previousSend } from './segment-record.js';

const SIDES: readonly Side[] = ['client', 'server'];

export class KeptSegments {
  constructor(
    private readonly view: ConnView,
    private readonly rare: (ConnRare | null)[],
  ) {}

  /**
   * Feeds the segment to the state machine (with a sink that records what it caused) and keeps
   * its record on the connection's model object. Call after its facts were counted.
   */
  segment(id: number, side: 0 | 1, p: DecodedPacket, marks: number, completesHandshake: boolean): SegmentRecord {
    const t = p.t;
    const r = this.rare[id]!;
    const mo = r.out!;
    this.view.update(id, mo);
    const st = this.view.statesOf(id);
    const before: [TcpState, TcpState] = [st.state(0), st.state(1)];
    const rec = buildSegmentRecord(this.view.relBase(id, side), this.view.relBase(id, (1 - side) as 0 | 1), side, p, t, p.tsSec + p.tsNsec / 1e9, marks);
    const hadPending = st.hasPending;
    let late: SegmentContext | null = null;
    let lateSide: 0 | 1 = 0;
    st.onSegment(side, p, (s, from, to, at) => {
      // A transition dated at an earlier packet (CLOSE_WAIT at the FIN this ACK proves arrived)
      // goes on that packet's record, so the segment lines and the ladder show it there.
      const fin = at !== null && at < p.index && r.finCtx !== null ? r.finCtx[1 - s] : null;
      if (fin != null && fin.rec.packet === at) {
        fin.rec.transitions.push({ side: SIDES[s]!, from, to });
        late = fin;
        lateSide = s;
      } else rec.transitions.push({ side: SIDES[s]!, from, to });
    });
    if (hadPending) this.settlePending(id);
    const ctx: SegmentContext = { conn: mo, side, rec, before, marks, resentAfter: previousSend(r.sentAt, side, p, t), completesHandshake };
    rec.meaning = describeSegment(ctx);
    if (late !== null) {
      const fin = (late as SegmentContext).rec;
      fin.meaning = describeSegment(late);
      // Said here too: a --live reader saw the FIN's line before this ACK proved its arrival.
      rec.meaning += `; the ${SIDES[lateSide]} has been in CLOSE_WAIT since the FIN arrived (packet ${fin.packet})`;
    }
    if (p.tcpFlags & FIN) (r.finCtx ??= [null, null])[side] = ctx;
    if (this.view.statesOf(id).hasPending && r.pendingCtx === null) r.pendingCtx = ctx;
    mo.segments.push(rec);
    return rec;
  }

  /** The held-back server ESTABLISHED was decided: re-word the handshake ACK that caused it. */
  settlePending(id: number): void {
    const r = this.rare[id];
    if (r == null || r.pendingCtx === null || this.view.statesOf(id).hasPending) return;
    this.view.update(id, r.pendingCtx.conn);
    r.pendingCtx.rec.meaning = describeSegment(r.pendingCtx);
    r.pendingCtx = null;
  }
}
