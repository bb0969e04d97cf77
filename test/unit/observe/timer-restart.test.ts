/**
 * The observer keeps a sample whose only change is a timer that restarted (a TIME_WAIT socket that
 * answered a retransmitted FIN starts its 60 s again), and still collapses a plain countdown.
 */
import { describe, expect, it } from 'vitest';
import { timerRestarted, TIMER_RESTART_S } from '../../../src/observe/observer.js';

const tw = 'tcp 10.0.0.1:40000 10.0.0.2:80 time-wait';

describe('timerRestarted', () => {
  it('a countdown (deadline unchanged, or earlier within read jitter) is not a restart', () => {
    // sampled at 100.00 s with 59.50 s left, then at 100.40 s with 59.10 s left: the same deadline
    expect(timerRestarted(new Map([[tw, 100 + 59.5]]), new Map([[tw, 100.4 + 59.1]]))).toBe(false);
    expect(timerRestarted(new Map([[tw, 159.5]]), new Map([[tw, 159.5 + TIMER_RESTART_S / 2]]))).toBe(false);
  });

  it('a deadline that moved later by more than the jitter is a restart', () => {
    // 59.10 s left at 100.40 s, then 59.98 s left at 100.45 s: the timer started again at ~100.43 s
    expect(timerRestarted(new Map([[tw, 100.4 + 59.1]]), new Map([[tw, 100.45 + 59.98]]))).toBe(true);
  });

  it('a socket or timer not in the previous sample is no restart (a new socket is a change of its own)', () => {
    expect(timerRestarted(new Map(), new Map([[tw, 160]]))).toBe(false);
    expect(timerRestarted(new Map([['tcp a b retransmit', 10]]), new Map([[tw, 160]]))).toBe(false);
  });
});
