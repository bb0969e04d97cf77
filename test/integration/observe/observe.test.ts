/**
 * The observer against the real kernel: a client's TIME_WAIT socket with its ~60 s countdown (the
 * tm->when unit checked against ss), and a blocked UDP receiver's drops next to Udp.RcvbufErrors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeAt, parseProcNet, readSockets, socketStateAt, startObserver } from '../../../src/observe/index.js';
import { timerRestarted } from '../../../src/observe/observer.js';
import { createSandbox } from '../../../src/sandbox/index.js';
import type { Sandbox } from '../../../src/sandbox/types.js';
import { tcpEcho, waitExit, waitLine } from '../sandbox/helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await createSandbox({ kind: 'loopback' }, { label: 'observe-test' });
});
afterAll(async () => {
  await sb?.destroy();
});

describe('proc-net parsing', () => {
  it('decodes addresses, states and timers of /proc/net/tcp and tcp6 lines', () => {
    // from `cat /proc/net/tcp` in a lab namespace after a closed connection (TIME_WAIT, timer 3)
    const tcp =
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
      '   0: 0100007F:A2C6 0100007F:1F90 06 00000000:00000000 03:0000173D 00000000     0        0 0 3 0000000000000000\n';
    const [e] = parseProcNet(tcp, 'tcp');
    expect(e).toMatchObject({ local: '127.0.0.1:41670', remote: '127.0.0.1:8080', state: 'TIME_WAIT', timer: 'time-wait', timerRemainingMs: 0x173d * 10 });
    const tcp6 =
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
      '   0: 000000FD000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n';
    const [l] = parseProcNet(tcp6, 'tcp6');
    expect(l).toMatchObject({ local: '[fd00::1]:8080', remote: '[::]:0', state: 'LISTEN', timer: 'none', rxQueue: 1, inode: 4242 });
  });
});

describe('observer', () => {
  it('sees the client holding TIME_WAIT with ~60 s left, as ss does', async () => {
    const obs = startObserver(sb.nsPid('client'), { intervalMs: 10 });
    const { port } = await tcpEcho(sb, 4);
    // ss's own countdown for the same socket, read right now
    const ss = await sb.exec('client', ['ss', '-tan', '-o', 'state', 'time-wait']);
    const observation = await obs.stop();
    const last = observation.samples[observation.samples.length - 1]!;
    const tw = last.sockets.find((s) => s.state === 'TIME_WAIT' && s.remote === `127.0.0.1:${port}`);
    expect(tw, JSON.stringify(last.sockets)).toBeDefined();
    expect(tw!.timer).toBe('time-wait');
    const now = Date.now() / 1000;
    const at = socketStateAt(observation, now, tw!.local, tw!.remote)!;
    expect(at.state).toBe('TIME_WAIT');
    expect(at.timerRemainingMs).toBeGreaterThan(57_000);
    expect(at.timerRemainingMs).toBeLessThanOrEqual(60_000);
    const m = /timewait,(\d+)sec/.exec(ss.stdout);
    expect(m, ss.stdout).not.toBeNull();
    expect(Math.abs(Number(m![1]) * 1000 - tw!.timerRemainingMs)).toBeLessThan(2000);
    expect(describeAt(observation, now, tw!.local, tw!.remote, now - 1.017)).toMatch(/^at 1\.017 s 127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+ was in TIME_WAIT \(time-wait timer, \d+\.\d s left\)$/);
    // earlier in the run the same 4-tuple was ESTABLISHED (or not yet there)
    const states = observation.samples.map((s) => s.sockets.find((x) => x.local === tw!.local && x.remote === tw!.remote)?.state ?? '-');
    expect(states).toContain('TIME_WAIT');
    // identical consecutive samples were collapsed (a sample that differs only by a timer is kept
    // only when that timer restarted: its deadline moved later)
    const sig = (i: number): string => JSON.stringify(observation.samples[i]!.sockets.map((s) => ({ ...s, timerRemainingMs: 0 })));
    const due = (i: number): Map<string, number> => new Map(observation.samples[i]!.sockets.filter((s) => s.timer !== 'none').map((s) => [`${s.proto} ${s.local} ${s.remote} ${s.timer}`, observation.samples[i]!.time + s.timerRemainingMs / 1000]));
    for (let i = 1; i < observation.samples.length; i++) {
      if (sig(i) === sig(i - 1)) expect(timerRestarted(due(i - 1), due(i)), `sample ${i} repeats sample ${i - 1}`).toBe(true);
    }
    expect(observation.samples.length).toBeLessThan(50);
    expect(observation.delta['Tcp.ActiveOpens']).toBe(1);
  });

  it('fresh() answers with a read made after the call, and that read is in the observation', async () => {
    // A sampling interval far longer than the listener lives: only the wait's read can see it.
    const obs = startObserver(sb.nsPid('server'), { intervalMs: 60_000 });
    const srv = sb.spawn('server', ['node', '-e', "require('net').createServer().listen(0, '127.0.0.1', function () { console.log('READY ' + this.address().port); })"], { stdio: ['ignore', 'pipe', 'pipe'] });
    const port = Number((await waitLine(srv, /READY (\d+)/))[1]);
    const table = await obs.fresh();
    expect(table.find((s) => s.local === `127.0.0.1:${port}`)?.state).toBe('LISTEN');
    srv.kill('SIGKILL');
    await waitExit(srv);
    const observation = await obs.stop();
    const seen = observation.samples.flatMap((x) => x.sockets).filter((s) => s.local === `127.0.0.1:${port}`);
    expect(seen.map((s) => s.state)).toContain('LISTEN');
    expect(observation.samples[observation.samples.length - 1]!.sockets.some((s) => s.local === `127.0.0.1:${port}`)).toBe(false);
    expect((await obs.fresh()).some((s) => s.local === `127.0.0.1:${port}`)).toBe(false); // after stop: a read of its own
  });

  it("reports a blocked UDP receiver's drops and the Udp.RcvbufErrors delta", async () => {
    const N = 2000;
    const RECEIVER = `
      const dgram = require('dgram'); const fs = require('fs');
      const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4096 });
      let n = 0; s.on('message', () => n++);
      s.bind(0, '127.0.0.1', () => {
        fs.writeSync(1, 'READY ' + s.address().port + '\\n');
        fs.readSync(0, Buffer.alloc(16)); // blocked until the test says go: the buffer fills meanwhile
        setTimeout(() => { fs.writeSync(1, 'COUNT ' + n + '\\n'); process.exit(0); }, 300);
      });`;
    const SENDER = `
      const dgram = require('dgram'); const s = dgram.createSocket('udp4'); const buf = Buffer.alloc(100, 1);
      let done = 0; const N = Number(process.argv[2]);
      for (let i = 0; i < N; i++) s.send(buf, Number(process.argv[1]), '127.0.0.1', () => { if (++done === N) { console.log('SENT ' + done); s.close(); } });`;
    const obs = startObserver(sb.nsPid('server'), { intervalMs: 10 });
    const rcv = sb.spawn('server', ['node', '-e', RECEIVER], { stdio: ['pipe', 'pipe', 'pipe'] });
    const port = Number((await waitLine(rcv, /READY (\d+)/))[1]);
    const snd = sb.spawn('client', ['node', '-e', SENDER, String(port), String(N)], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitLine(snd, /SENT (\d+)/);
    await waitExit(snd);
    // while still blocked: the socket shows the drops
    const blocked = (await readSockets(sb.nsPid('server'))).find((s) => s.proto === 'udp' && s.local === `127.0.0.1:${port}`)!;
    expect(blocked.drops).toBeGreaterThan(0);
    expect(blocked.rxQueue).toBeGreaterThan(0);
    rcv.stdin!.write('go\n');
    const received = Number((await waitLine(rcv, /COUNT (\d+)/))[1]);
    await waitExit(rcv);
    const observation = await obs.stop();
    expect(received + blocked.drops).toBe(N);
    expect(observation.delta['Udp.RcvbufErrors']).toBe(blocked.drops);
    expect(observation.delta['Udp.InErrors']).toBe(blocked.drops);
    const seen = observation.samples.flatMap((s) => s.sockets).filter((s) => s.local === `127.0.0.1:${port}`);
    expect(Math.max(...seen.map((s) => s.drops))).toBe(blocked.drops);
  });
});
