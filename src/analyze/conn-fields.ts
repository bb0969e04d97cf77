/**
 * Every number a TCP connection stores, one line each: the single table from which the row
 * offsets (CONN.at / CONN.intAt), the initial values and the row -> model view
 * (src/analyze/conn-view.ts) are derived. A field that names a `fact` (a path into
 * TcpConnection, checked by the compiler) is copied there by the view, read as `read` says;
 * the inspect JSON writes what the model holds (src/report/json.ts).
 *
 * Adding a per-connection fact: one line here (with its `fact` path and a field in model.ts),
 * plus the code in the tracker that sets it.
 *
 * Memory: a connection is CONN.numSize doubles + CONN.intSize int32s in shared pages (51 + 71:
 * 692 bytes); lists and unusual options sit in the sparse ConnRare (src/analyze/conn-rare.ts).
 */
import { encapNames } from '../decode/packet.js';
import type { TcpConnection } from './model.js';
import { block, int, num, rowLayout, type FactRead, type FieldSpec, type IntField, type NumField } from './row-layout.js';
import { SEQ_FLOW } from './tcp-marks.js';
import { STATE_ROW } from './tcp-states.js';

type Leaf = number | boolean | string | null | readonly string[];
/** 'packets', 'handshake.clientIsn', ...: the scalar fields of TcpConnection, by path. */
export type FactPath<T = TcpConnection, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends Leaf ? `${P}${K}` : T[K] extends readonly unknown[] ? never : T[K] extends object ? FactPath<T[K], `${P}${K}.`> : never;
}[keyof T & string];

/** A stored field shown in the model at `paths` (one per slot: [client, server] for a pair). */
function shows<F extends NumField | IntField>(f: F, paths: readonly FactPath[], read: FactRead = 'value'): F {
  return { ...f, fact: paths, read };
}

/** The handshake and close steps, in this order in the step fields (model: TcpConnection.steps). */
export const STEP_NAMES = ['syn', 'synAck', 'ack', 'firstFin', 'firstFinAck', 'secondFin', 'lastAck'] as const;
export type StepName = (typeof STEP_NAMES)[number];
export const STEP = Object.fromEntries(STEP_NAMES.map((n, i) => [n, i])) as { readonly [K in StepName]: number };
const STEPS = STEP_NAMES.length;

/** The names of an encapsulation mask, one shared array per mask (a capture has a few). */
const encapLists = new Map<number, readonly string[]>();
function encapList(mask: number): readonly string[] {
  let names = encapLists.get(mask);
  if (names === undefined) encapLists.set(mask, (names = Object.freeze(encapNames(mask))));
  return names;
}

const SPEC = {
  states: block(STATE_ROW), // EndpointStates' numbers
  seqFlow: block(SEQ_FLOW, 2), // Wireshark's sequence analysis, client -> server then server -> client
  relBase: num(-1, 2), // relative-sequence base of each side, as Wireshark bases it; -1 unset
  lastSynTime: num(-1), // most recent pure SYN (Wireshark's ts_mru_syn); -1 none
  firstRtt: num(0), // Wireshark's ts_first_rtt, seconds; 0 unknown
  firstTime: shows(num(0), ['firstTime']),
  lastTime: shows(num(0), ['lastTime']),
  bytes: shows(num(0, 2), ['bytes.client', 'bytes.server']),
  isn: shows(num(-1, 2), ['handshake.clientIsn', 'handshake.serverIsn'], 'negativeIsNull'),
  rttMs: shows(num(NaN), ['handshake.rttMs'], 'nanIsNull'),
  lastAckTime: shows(num(NaN), ['close.lastAckTime'], 'nanIsNull'), // both FINs acknowledged
  stepTime: num(NaN, STEPS), // per step (STEP): when it was captured, NaN none
  packets: shows(int(0), ['packets']),
  complete: shows(int(0), ['handshake.complete'], 'bool'),
  synRetransmits: shows(int(0), ['handshake.synRetransmits']),
  synAckRetransmits: shows(int(0), ['handshake.synAckRetransmits']),
  dataInThirdSegment: shows(int(0), ['handshake.dataInThirdSegment'], 'bool'),
  dataInSyn: shows(int(0), ['handshake.dataInSyn'], 'bool'),
  retransmissions: shows(int(0), ['retransmissions']),
  resets: shows(int(0), ['resets']),
  dupAcks: shows(int(0), ['dupAcks']),
  zeroWindows: shows(int(0), ['zeroWindows']),
  zeroWindowProbes: shows(int(0), ['zeroWindowProbes']),
  outOfOrder: shows(int(0), ['outOfOrder']),
  lostSegments: shows(int(0), ['lostSegments']),
  encap: shows(int(0), ['encapsulation'], encapList), // ENCAP_* bits of every segment (decode/packet.ts)
  firstRstSide: int(-1), // side of the first RST, -1
  firstRstPacket: int(0), // the first RST (ConnRare keeps the others): packet, 0 none
  firstRstCause: int(0), // its RST_CAUSE code
  firstRstTime: num(NaN),
  rstBeforeClose: int(0), // a RST came before both FINs were acknowledged
  stepPacket: int(0, STEPS), // per step: its packet number (1-based), 0 none
  stepSeq: int(0, STEPS), // per step: seq and ack as int32 (read back with >>> 0)
  stepAck: int(0, STEPS),
  // The SYN's (client) and SYN-ACK's (server) plain options; unusual ones go to ConnRare whole.
  mss: int(-1, 2),
  wscale: int(-1, 2),
  sackPermitted: int(0, 2),
  timestamps: int(0, 2),
  tsVal: int(0, 2), // as int32
  tsEcr: int(0, 2),
  addr4: int(0, 2), // IPv4 addresses (client, server) as int32
  port: int(0, 2),
  family: int(4), // 4 or 6
  hash: int(0), // the flow hash (for growing the lookup table)
} satisfies Record<string, FieldSpec>;

export const CONN = rowLayout(SPEC);
export type ConnField = keyof typeof SPEC;
