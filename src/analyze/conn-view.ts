/**
 * A connection's row as a model object (TcpConnection): the fields CONN names a `fact` for are
 * copied by one loop derived from the table (src/analyze/conn-fields.ts); what is not a stored
 * number (names, the close verdict, steps, lists, state paths) is built here, once.
 */
import type { ResetEvent, RetransmissionEvent, Side, TcpConnection, TcpStep, TcpSteps } from './model.js';
import type { OptionSummary } from './model.js';
import type { TcpState } from '../tcp-state.js';
import { endpointText } from '../endpoint.js';
import { CONN, STEP_NAMES } from './conn-fields.js';
import type { ConnRare } from './conn-rare.js';
import { retransmissionEvent, RST_CAUSE } from './conn-rare.js';
import type { ConnTable } from './conn-table.js';
import type { FactRead } from './row-layout.js';
import { classifyClose } from './tcp-close.js';
import { pathKey, statePath, transitionList } from './state-path.js';
import { CLIENT, SERVER, type EndpointStates } from './tcp-states.js';

const SIDES: readonly Side[] = ['client', 'server'];

interface FactCopy {
  store: 'num' | 'int';
  offset: number;
  read: FactRead;
  /** The path in TcpConnection: one or two property names. */
  outer: string;
  inner: string | null;
}

/** Every (field slot -> model path) the table declares. */
const FACT_COPIES: FactCopy[] = [];
for (const [name, f] of Object.entries(CONN.spec)) {
  if (f.store === 'block' || f.fact === undefined) continue;
  f.fact.forEach((path, slot) => {
    const [outer, inner] = path.split('.') as [string, string | undefined];
    FACT_COPIES.push({ store: f.store, offset: CONN.at[name as keyof typeof CONN.at] + slot, read: f.read ?? 'value', outer, inner: inner ?? null });
  });
}

/**
 * The copies as one straight-line function, generated once from the table: a generic loop over
 * FACT_COPIES (keyed stores, boxed values) cost 0.2 s on 98k connections.
 */
const READERS = FACT_COPIES.map((f) => (typeof f.read === 'function' ? f.read : null));
const generatedCopy = new Function('mo', 'num', 'numAt', 'int', 'intAt', 'readers', [
  'let x;',
  ...FACT_COPIES.map((f, i) => {
    const path = f.inner === null ? f.outer : `${f.outer}.${f.inner}`;
    const load = `x = ${f.store}[${f.store}At + ${f.offset}];`;
    const value = typeof f.read === 'function' ? `readers[${i}](x)` : f.read === 'value' ? 'x' : f.read === 'bool' ? 'x === 1' : f.read === 'negativeIsNull' ? '(x < 0 ? null : x)' : '(x !== x ? null : x)';
    return `${load} mo.${path} = ${value};`;
  }),
].join('\n')) as (mo: TcpConnection, num: Float64Array, numAt: number, int: Int32Array, intAt: number, readers: unknown[]) => void;
const copyFacts = (mo: TcpConnection, num: Float64Array, numAt: number, int: Int32Array, intAt: number): void => generatedCopy(mo, num, numAt, int, intAt, READERS);

const {
  stepPacket: STEP_PACKET, stepTime: STEP_TIME, stepSeq: STEP_SEQ, stepAck: STEP_ACK, firstRstSide: FIRST_RST, rstBeforeClose: RST_BEFORE_CLOSE, firstRstPacket: FIRST_RST_PACKET, firstRstCause: FIRST_RST_CAUSE,
  firstRstTime: FIRST_RST_TIME,
  states: STATES_NUM, relBase: REL_BASE, mss: MSS, wscale: WSCALE, sackPermitted: SACK_PERMITTED, timestamps: TIMESTAMPS, tsVal: TS_VAL, tsEcr: TS_ECR, firstTime: FIRST_TIME,
} = CONN.at;
const STATES_INT = CONN.intAt.states;

export class ConnView {
  /** One shared array per distinct state path (a capture has a few dozen). */
  private readonly paths = new Map<number, TcpState[]>();

  constructor(
    private readonly table: ConnTable,
    private readonly states: EndpointStates,
    private readonly rare: (ConnRare | null)[],
  ) {}

  /** The state cursor pointed at connection id. */
  statesOf(id: number): EndpointStates {
    const t = this.table;
    return this.states.at(t.nums(id), t.numAt(id) + STATES_NUM, t.ints(id), t.intAt(id) + STATES_INT, id);
  }

  /** A new model object for connection id (its lists shared with the connection's kept ones). */
  build(id: number): TcpConnection {
    const st = this.statesOf(id);
    const r = this.rare[id] ?? null;
    const steps = this.steps(id);
    const times = (list: number[] | null | undefined, first: TcpStep | null): number[] => list ?? (first === null ? [] : [first.t]);
    const finStep = (side: 0 | 1): TcpStep | null => (st.firstFin === side ? steps.firstFin : st.firstFin === 1 - side ? steps.secondFin : null);
    const mo: TcpConnection = {
      id,
      family: 4,
      client: '',
      server: '',
      clientAddr: '',
      clientPort: 0,
      serverAddr: '',
      serverPort: 0,
      firstTime: 0,
      lastTime: 0,
      packets: 0,
      bytes: { client: 0, server: 0 },
      handshake: {
        complete: false,
        clientIsn: null,
        serverIsn: null,
        synRetransmits: 0,
        synAckRetransmits: 0,
        rttMs: null,
        synTimes: times(r?.synTimes, steps.syn),
        synAckTimes: times(r?.synAckTimes, steps.synAck),
        clientOptions: {},
        serverOptions: {},
        dataInThirdSegment: false,
        dataInSyn: false,
      },
      close: { kind: 'none', initiator: null, finTimes: { client: times(r?.finTimes[0], finStep(0)), server: times(r?.finTimes[1], finStep(1)) }, lastAckTime: null },
      timeWait: null,
      retransmissions: 0,
      resets: 0,
      dupAcks: 0,
      zeroWindows: 0,
      zeroWindowProbes: 0,
      outOfOrder: 0,
      lostSegments: 0,
      encapsulation: [],
      start: st.start,
      steps,
      retransmissionList: retransmissionList(r),
      resetList: this.resetList(id, r),
      states: { client: transitionList(st, CLIENT), server: transitionList(st, SERVER) },
      statePath: { client: [], server: [] },
      segments: [],
    };
    this.fill(id, mo);
    return mo;
  }

  /** Names and current numbers of connection id into `mo` (a scratch object reused for every connection, or its own). */
  fill(id: number, mo: TcpConnection): TcpConnection {
    const t = this.table;
    mo.id = id;
    mo.family = t.family(id);
    mo.clientAddr = t.addressText(id, 0);
    mo.serverAddr = t.addressText(id, 1);
    mo.clientPort = t.port(id, 0);
    mo.serverPort = t.port(id, 1);
    mo.client = endpointText(mo.clientAddr, mo.clientPort);
    mo.server = endpointText(mo.serverAddr, mo.serverPort);
    mo.firstTime = t.nums(id)[t.numAt(id) + FIRST_TIME]!;
    this.update(id, mo);
    return mo;
  }

  /**
   * Copies the connection's current numbers and what follows from them (close verdict, TIME_WAIT,
   * state paths, options) into a model object. Lists and steps are left as they are (a kept
   * model object gets those as they happen; a scratch object of fill() does not have them).
   */
  update(id: number, mo: TcpConnection): void {
    const t = this.table;
    const num = t.nums(id);
    const numAt = t.numAt(id);
    const int = t.ints(id);
    const intAt = t.intAt(id);
    copyFacts(mo, num, numAt, int, intAt);
    const st = this.statesOf(id);
    const verdict = classifyClose(st, int[intAt + FIRST_RST]!, int[intAt + RST_BEFORE_CLOSE] === 1);
    mo.close.kind = verdict.kind;
    mo.close.initiator = verdict.initiator;
    mo.timeWait = verdict.timeWait;
    mo.start = st.start;
    mo.statePath.client = this.sharedPath(st, CLIENT);
    mo.statePath.server = this.sharedPath(st, SERVER);
    const r = this.rare[id];
    mo.handshake.clientOptions = r?.clientOptions ?? plainOptions(int, intAt, 0);
    mo.handshake.serverOptions = r?.serverOptions ?? plainOptions(int, intAt, 1);
  }

  /** The RSTs of connection id: the first from the row, the others from ConnRare. */
  private resetList(id: number, r: ConnRare | null): ResetEvent[] {
    const int = this.table.ints(id);
    const intAt = this.table.intAt(id);
    const packet = int[intAt + FIRST_RST_PACKET]!;
    if (packet === 0) return [];
    const first: ResetEvent = {
      packet,
      t: this.table.nums(id)[this.table.numAt(id) + FIRST_RST_TIME]!,
      side: SIDES[int[intAt + FIRST_RST]!]!,
      cause: RST_CAUSE[int[intAt + FIRST_RST_CAUSE]!]!,
    };
    return resetList(r, [first]);
  }

  /** The relative-sequence base of a side (Wireshark's), -1 while unknown. */
  relBase(id: number, side: 0 | 1): number {
    return this.table.nums(id)[this.table.numAt(id) + REL_BASE + side]!;
  }

  /** The handshake and close steps of connection id. */
  steps(id: number): TcpSteps {
    const t = this.table;
    const num = t.nums(id);
    const numAt = t.numAt(id);
    const int = t.ints(id);
    const intAt = t.intAt(id);
    const first = this.statesOf(id).firstFin;
    const closer: Side = first === SERVER ? 'server' : 'client';
    const other: Side = first === SERVER ? 'client' : 'server';
    const sideOf = [ 'client', 'server', 'client', closer, other, other, closer ] as const satisfies readonly Side[];
    const out = {} as TcpSteps;
    STEP_NAMES.forEach((name, i) => {
      const packet = int[intAt + STEP_PACKET + i]!;
      out[name] = packet === 0 ? null : {
        packet,
        t: num[numAt + STEP_TIME + i]!,
        seq: int[intAt + STEP_SEQ + i]! >>> 0,
        ack: int[intAt + STEP_ACK + i]! >>> 0,
        side: sideOf[i]!,
      };
    });
    return out;
  }

  private sharedPath(st: EndpointStates, side: 0 | 1): TcpState[] {
    const key = pathKey(st, side);
    if (key < 0) return statePath(st, side);
    let p = this.paths.get(key);
    if (p === undefined) {
      p = statePath(st, side);
      this.paths.set(key, p);
    }
    return p;
  }
}

function plainOptions(int: Int32Array, intAt: number, side: 0 | 1): OptionSummary {
  const s: OptionSummary = {};
  if (int[intAt + MSS + side]! >= 0) s.mss = int[intAt + MSS + side]!;
  if (int[intAt + WSCALE + side]! >= 0) s.wscale = int[intAt + WSCALE + side]!;
  if (int[intAt + SACK_PERMITTED + side] === 1) s.sackPermitted = true;
  if (int[intAt + TIMESTAMPS + side] === 1) s.timestamps = [int[intAt + TS_VAL + side]! >>> 0, int[intAt + TS_ECR + side]! >>> 0];
  return s;
}

function retransmissionList(r: ConnRare | null): RetransmissionEvent[] {
  const flat = r?.retransmitted;
  const out: RetransmissionEvent[] = [];
  if (flat == null) return out;
  for (let i = 0; i < flat.length; i += 4) out.push(retransmissionEvent(flat[i]!, flat[i + 1]!, flat[i + 2]!, flat[i + 3]!));
  return out;
}

function resetList(r: ConnRare | null, out: ResetEvent[]): ResetEvent[] {
  const flat = r?.resets;
  if (flat == null) return out;
  for (let i = 0; i < flat.length; i += 4) out.push({ packet: flat[i]!, t: flat[i + 1]!, side: SIDES[flat[i + 2]!]!, cause: RST_CAUSE[flat[i + 3]!]! });
  return out;
}

