/**
 * A table a lab's wait read is kept in the observation: the 10 ms sampler can stall on a loaded
 * machine and miss a state the lab waited for (server-first-close's FIN_WAIT_2 once, over IPv6),
 * and facts are judged from the observation. The sampler itself reads this process's own table
 * (read only).
 */
import { describe, expect, it } from 'vitest';
import { startObserver } from '../../../src/observe/observer.js';
import type { SocketEntry } from '../../../src/observe/types.js';
import { TcpState } from '../../../src/tcp-state.js';

const entry = (state: SocketEntry['state']): SocketEntry => ({
  proto: 'tcp', local: '10.99.0.1:4242', remote: '10.99.0.2:50000', state, timer: 'none', timerRemainingMs: 0,
  retransmits: 0, txQueue: 0, rxQueue: 0, drops: 0, inode: 1, uid: 0,
});

describe('the observer keeps what a wait read', () => {
  it('records an offered table as a sample, in time order, and ignores offers after stop', async () => {
    const obs = startObserver(process.pid, { intervalMs: 1000 });
    obs.offer([entry(TcpState.FIN_WAIT_2)]);
    const got = await obs.stop();
    obs.offer([entry(TcpState.TIME_WAIT)]);
    const states = got.samples.flatMap((s) => s.sockets.filter((e) => e.local === '10.99.0.1:4242').map((e) => e.state));
    expect(states).toEqual([TcpState.FIN_WAIT_2]);
    const times = got.samples.map((s) => s.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
