/** timerStarts: a socket's timer each time it (re)started, from the observer's samples. */
import { describe, expect, it } from 'vitest';
import { timerStarts } from '../../../src/lab/observed.js';
import type { Observation, SocketEntry } from '../../../src/observe/types.js';

const sock = (state: SocketEntry['state'], timer: SocketEntry['timer'], ms: number): SocketEntry => ({
  proto: 'tcp', local: '10.0.0.1:40000', remote: '10.0.0.2:80', state, timer, timerRemainingMs: ms,
  retransmits: 0, txQueue: 0, rxQueue: 0, drops: 0, inode: 0, uid: 0,
});
const obs = (samples: [number, SocketEntry[]][]): Observation => ({
  samples: samples.map(([time, sockets]) => ({ time, sockets })),
  before: { time: 0, values: {} }, after: { time: 0, values: {} }, delta: {},
});

describe('timerStarts', () => {
  it('keeps the first reading and every restart, not the countdown between', () => {
    const o = obs([
      [100.0, [sock('TIME_WAIT', 'time-wait', 59_000)]],
      [100.2, [sock('TIME_WAIT', 'time-wait', 58_800)]], // countdown: same deadline 159.0
      [100.5, [sock('TIME_WAIT', 'time-wait', 60_000)]], // restarted: deadline 160.5
      [101.0, [sock('TIME_WAIT', 'time-wait', 59_950)]], // restarted again: 160.95
      [101.5, [sock('TIME_WAIT', 'time-wait', 59_450)]], // countdown
    ]);
    const r = timerStarts(o, '10.0.0.1:40000', '10.0.0.2:80', 'time-wait');
    expect(r.map((x) => [x.time, x.remainingMs])).toEqual([[100.0, 59_000], [100.5, 60_000], [101.0, 59_950]]);
    expect(r[1]!.deadline).toBeCloseTo(160.5, 6);
  });

  it('ignores other sockets and other timer kinds; none seen gives []', () => {
    const o = obs([[1, [sock('LAST_ACK', 'retransmit', 200)]]]);
    expect(timerStarts(o, '10.0.0.1:40000', '10.0.0.2:80', 'time-wait')).toEqual([]);
    expect(timerStarts(o, '10.0.0.9:1', '10.0.0.2:80', 'retransmit')).toEqual([]);
    expect(timerStarts(undefined, 'a', 'b', 'time-wait')).toEqual([]);
  });
});
