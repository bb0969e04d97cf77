/** What a lab file imports: the definition helper, checks, facts and observation readers. */
import type { ParamSpecs } from './params.js';
import type { LabDefinition } from './types.js';

export { check } from './judge.js';
export { connFacts, enteredBy, isFin, isPureAck, isRst, isSyn, isSynAck, ms, secs, stateTrail, theConnection } from './facts.js';
export type { ConnFacts, Reset, Retransmission, Step } from './facts.js';
export { delta, firstObserved, observedStates, peakCount, timerStarts } from './observed.js';
export type { TimerReading } from './observed.js';
export { blockText, dsackBlock, inBlock, sackBlocks, sackedAbove } from './sack.js';
export type { SackBlock } from './sack.js';
export { kernelMissing, kernelState, kernelTolerance, signedUs, type KernelStateSeen } from './kernel-evidence.js';
export { TcpState } from '../tcp-state.js';
export type { CraftSpec } from './craft.js';
export type { Check, ClaimRule, Differs, LabDefinition, LabJudgeContext, LabRunContext } from './types.js';

/** Identity, for inference: a lab's params and facts types flow into its run, claims and story. */
export function defineLab<P extends ParamSpecs, F>(lab: LabDefinition<P, F>): LabDefinition<P, F> {
  return lab;
}
export { ackCoverage, dataSegments, windowProbes, withMark, zeroWindows } from './loss-facts.js';
export type { AckCoverage, WindowProbe } from './loss-facts.js';
export { setOffloads, type OffloadChange } from './offloads.js';
export { binomialBound, differenceBound, fragmentModel } from './stats.js';
export type { BinomialBound } from './stats.js';
export type { UdpExperimentOptions } from './udp-context.js';
export type { UdpResult } from '../udp/result.js';
