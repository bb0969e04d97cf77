/**
 * SACK facts per segment, for the loss labs: the blocks an ACK carries (RFC 2018), which of them is a
 * D-SACK (RFC 2883), and whether a data segment lies inside a block. Edges are relative, as the
 * analysis keeps them (SegmentRecord.options.sack: relative to the data sender's initial sequence
 * number, the same scale as that sender's relSeq), so they compare with data segments directly.
 */
import type { Step } from './facts.js';

export type SackBlock = [number, number]; // [left, right): relative sequence numbers

/** The SACK blocks a segment carries, in option order (the first is the most recent, or a D-SACK). */
export function sackBlocks(s: Pick<Step, 'seg'>): SackBlock[] {
  return s.seg.options.sack ?? [];
}

/** 32-bit sequence space: a < b. */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/**
 * The D-SACK block of an ACK, or null (RFC 2883 section 4): the first block reports a duplicate when
 * it lies below the cumulative ACK, or inside the second block (a duplicate above the ACK).
 */
export function dsackBlock(s: Pick<Step, 'seg' | 'relAck'>): SackBlock | null {
  const b = sackBlocks(s);
  const first = b[0];
  if (!first) return null;
  if (before(first[0], s.relAck)) return first;
  const second = b[1];
  if (second && !before(first[0], second[0]) && !before(second[1], first[1])) return first;
  return null;
}

/** The SACK blocks that report data received above the cumulative ACK (the D-SACK block left out). */
export function sackedAbove(s: Pick<Step, 'seg' | 'relAck'>): SackBlock[] {
  const d = dsackBlock(s);
  return sackBlocks(s).filter((b) => b !== d);
}

/** Whether a data segment's bytes [relSeq, relSeq + len) lie inside the block. */
export function inBlock(block: SackBlock, seg: { relSeq: number; len: number }): boolean {
  return !before(seg.relSeq, block[0]) && !before(block[1], (seg.relSeq + seg.len) >>> 0);
}

/** "[1449, 4345)": how labs print a block. */
export function blockText(b: SackBlock | null | undefined): string {
  return b ? `[${b[0]}, ${b[1]})` : 'none';
}
