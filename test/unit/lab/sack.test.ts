/** SACK facts per segment: blocks as the analysis keeps them (relative), D-SACK by RFC 2883's two rules. */
import { describe, expect, it } from 'vitest';
import { ACK, Conv, PSH, SYN, analyzeFrames } from '../analyze/build.js';
import { connFacts } from '../../../src/lab/facts.js';
import { blockText, dsackBlock, inBlock, sackBlocks, sackedAbove } from '../../../src/lab/sack.js';

// Client ISN 1000 (data from relSeq 1), server ISN 5000. Three 100-byte segments; the second is
// lost, the server SACKs the third; then the client resends the first (its ACK was lost): D-SACK.
const k = new Conv().cs(1, SYN, 1000, 0, 0, { sackPerm: true }).sc(1.001, SYN | ACK, 5000, 1001, 0, { sackPerm: true }).cs(1.002, ACK, 1001, 5001)
  .cs(1.01, PSH | ACK, 1001, 5001, 100).cs(1.011, PSH | ACK, 1101, 5001, 100).cs(1.012, PSH | ACK, 1201, 5001, 100)
  .sc(1.013, ACK, 5001, 1101).sc(1.014, ACK, 5001, 1101, 0, { sack: [[1201, 1301]] })
  .cs(1.3, PSH | ACK, 1101, 5001, 100).sc(1.301, ACK, 5001, 1301)
  .cs(1.6, PSH | ACK, 1201, 5001, 100).sc(1.601, ACK, 5001, 1301, 0, { sack: [[1201, 1301]] })
  // a duplicate above the ACK: the first block inside the second
  .sc(1.7, ACK, 5001, 1301, 0, { sack: [[1401, 1501], [1401, 1601]] });
const segs = connFacts(analyzeFrames(k.frames).tcp[0]!).segments;
const at = (packet: number) => segs.find((s) => s.packet === packet)!;

describe('SACK facts', () => {
  it('reads the blocks relative to the data sender, comparable with its relSeq', () => {
    expect(sackBlocks(at(8))).toEqual([[201, 301]]);
    expect(inBlock([201, 301], at(6))).toBe(true);
    expect(inBlock([201, 301], at(5))).toBe(false);
    expect(sackBlocks(at(7))).toEqual([]);
    expect(blockText(sackBlocks(at(8))[0])).toBe('[201, 301)');
  });
  it('a plain SACK below nothing is no D-SACK; it reports data above the ACK', () => {
    expect(dsackBlock(at(8))).toBeNull();
    expect(sackedAbove(at(8))).toEqual([[201, 301]]);
  });
  it('a block below the cumulative ACK is a D-SACK (RFC 2883 rule 1)', () => {
    expect(at(12).relAck).toBe(301);
    expect(dsackBlock(at(12))).toEqual([201, 301]);
    expect(sackedAbove(at(12))).toEqual([]);
  });
  it('a first block inside the second is a D-SACK (rule 2)', () => {
    expect(dsackBlock(at(13))).toEqual([401, 501]);
    expect(sackedAbove(at(13))).toEqual([[401, 601]]);
  });
});
