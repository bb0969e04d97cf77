/**
 * The last ACK of the close lost: the server (LAST_ACK) never hears the client's final ACK, so it
 * resends its FIN; the client, in TIME_WAIT, answers each copy with an ACK and starts its 60 s
 * again. The first lostAcks ACKs are dropped at the server's input, the next one goes through.
 */
import { check, connFacts, theConnection, defineLab, delta, enteredBy, isFin, isPureAck, observedStates, secs, TcpState } from '../../../src/lab/index.js';
import type { StateEvent } from '../../../src/observe/index.js';

/** Programs start slowly on a loaded machine (node or python3 under a load of 50+): their first event may take seconds. */
const START = { timeoutMs: 30_000 };

export default defineLab({
  name: 'lost-last-ack',
  title: 'The last ACK lost: the FIN comes again, TIME_WAIT answers and starts over',
  topic: 'tcp/close',
  seconds: 3,
  needs: ['root', 'tcpdump', 'nft', 'python3'],
  topology: { kind: 'veth' },
  params: {
    lostAcks: { type: 'int', default: 3, min: 1, max: 5, help: "how many of the client's ACKs of the server's FIN are dropped (the server resends its FIN that many times)" },
    earlyRetrans: { type: 'int', default: 3, min: 0, max: 4, help: 'net.ipv4.tcp_early_retrans in both namespaces: 3 (Linux default) sends a tail-loss probe first; 0 gives plain RTO doubling' },
  },
  sysctls: (p) => ({ 'net.ipv4.tcp_early_retrans': p.earlyRetrans, 'net.ipv4.tcp_no_metrics_save': 1 }),
  timeoutMs: 90_000, // a loaded machine stretches bpftrace's start-up and the waits
  explanation: `The client closes first; the server's application closes when it has read the client's
FIN, so the server sends its FIN from CLOSE_WAIT and is LAST_ACK. The client acknowledges that FIN
and enters TIME_WAIT, but the server's input drops the ACK (an nftables rule armed just before the
server closes, dropping the client's first lostAcks pure ACKs). The server cannot tell a lost FIN
from a lost ACK: it resends its FIN on its retransmission timer. Linux first sends a tail-loss probe
(RFC 8985: about 2 RTT plus 200 ms on a connection with one segment in flight), then waits the RTO
(200 ms minimum), doubling it each time. The client is still there, in TIME_WAIT, exactly for this:
it answers every copy of the FIN with an ACK and restarts its TIME_WAIT timer at 60 s
(inet_twsk_reschedule with TCP_TIMEWAIT_LEN). Had it closed at once, the FIN would have met a RST.`,

  async run(ctx) {
    const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 });
    const port = Number((await server.next('listening', START)).port);
    ctx.mark('connect', { port });
    const client = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port });
    const local = String((await client.next('connected', START)).local);
    await server.next('accepted');
    // A watcher reads the client socket's TIME_WAIT timer from /proc every 5 ms, in the client namespace.
    const watch = ctx.program('client', 'tw-watch.py', { port: Number(local.slice(local.lastIndexOf(':') + 1)) }, 'tw-watch');
    await watch.next('ready', START);
    client.send({ do: 'write', bytes: 100 });
    await server.next('data');
    client.send({ do: 'end' });
    await server.next('end');
    // Armed now: the client has nothing left to acknowledge but the server's FIN.
    const lost = ctx.params.lostAcks;
    const drop = await ctx.fault('last-ack', { at: 'server', match: { from: 'client', dport: port, tcp: 'pure-ack' }, drop: { nth: 1, count: lost } });
    ctx.mark('server closes');
    server.send({ do: 'end' });
    // The server's socket sits in LAST_ACK until an ACK gets through (the fault's own counter says
    // when the dropped ones are behind us), then leaves the table; the client holds TIME_WAIT.
    const me = ctx.endpoint('server', port);
    const budget = (0.5 + 2 ** (lost + 1) * 0.3) * 1000 + 5000;
    const until = Date.now() + budget;
    while ((await drop.count()) < lost) {
      if (Date.now() > until) throw new Error(`the fault dropped ${await drop.count()} of ${lost} ACKs within ${budget} ms`);
      await ctx.sleep(20); // polling the nft counter: a readiness wait
    }
    await ctx.waitForSockets('server', (all) => !all.some((s) => s.local === me && s.remote === local), budget);
    ctx.mark('server closed');
    await client.next('closed');
    await ctx.waitForSocket('client', (s) => s.local === local && s.state === TcpState.TIME_WAIT, 5000);
    // One last reading (after the last FIN copy, which the server's close proves arrived), then it stops.
    watch.send({ do: 'exit' });
    await watch.next('done', { timeoutMs: 10_000 });
  },

  facts(ctx, setup) {
    const conn = theConnection(ctx, setup, 'connect');
    if (!conn) return null;
    const f = connFacts(conn);
    const { firstFin, secondFin } = f.close;
    if (!setup.expect('both sides sent a FIN', !!(firstFin && secondFin), [firstFin?.packet, secondFin?.packet], 'two FINs')) return null;
    const fin2 = secondFin!;
    // Every copy of the server's FIN, and the client's answer to each (a pure ACK of w+1 before the next copy).
    const fins = f.segments.filter((s) => s.from === 'server' && isFin(s) && s.seq === fin2.seq);
    const finEnd = (fin2.seq + 1) >>> 0;
    const acks = f.segments.filter((s) => s.from === 'client' && isPureAck(s) && s.ack === finEnd);
    const answers = fins.map((fin, i) => acks.find((a) => a.packet > fin.packet && a.packet < (fins[i + 1]?.packet ?? Infinity)) ?? null);
    const gaps = fins.slice(1).map((x, i) => x.time - fins[i]!.time);
    // The client's TIME_WAIT timer: each time the watcher saw it go up (a restart), matched to the
    // latest FIN copy before that reading: it restarted there if its deadline is that copy + 60 s.
    const watcher = ctx.program('tw-watch').messages;
    const tw = watcher.filter((m) => m.event === 'restart').map((m) => {
      const reading = { time: m.t, remainingMs: Number(m.remainingMs), prevMs: Number(m.prevMs), deadline: m.t + Number(m.remainingMs) / 1000 };
      const i = fins.reduce((best, x, j) => (x.absTime <= reading.time ? j : best), -1);
      return { reading, copy: i, fin: fins[i] ?? null, offset: i >= 0 ? reading.deadline - (fins[i]!.absTime + 60) : null };
    });
    const twFirst = watcher.find((m) => m.event === 'tw') ?? null;
    // The watcher's last reading, after the last copy: when does the TIME_WAIT timer end now?
    const done = watcher.find((m) => m.event === 'done' && Number(m.remainingMs) > 0) ?? null;
    const finalDeadline = done ? done.t + Number(done.remainingMs) / 1000 : null;
    const k = ctx.kernelEvents.available ? ctx.kernelEvents.events : [];
    const serverChanges = k.filter((e): e is StateEvent => e.kind === 'state' && e.local === f.conn.server && e.remote === f.conn.client && e.from !== e.to);
    const lastAckIn = serverChanges.find((e) => e.to === 'LAST_ACK') ?? null;
    const lastAckOut = serverChanges.find((e) => e.from === 'LAST_ACK') ?? null;
    return {
      ...f, fin1: firstFin!, fin2, fins, answers, gaps, tw, twFirst, done, finalDeadline, lastAckIn, lastAckOut,
      kernelMissing: ctx.kernelEvents.available ? null : ctx.kernelEvents.missing,
      dropped: ctx.faults.find((x) => x.name === 'last-ack')?.dropped ?? 0,
      lossProbes: delta(ctx.observations.server, 'TcpExt.TCPLossProbes'),
      serverProc: observedStates(ctx.observations.server, f.conn.server, f.conn.client),
    };
  },

  claims: {
    C09: (f, ctx) => {
      const n = ctx.params.lostAcks;
      const tlp = ctx.params.earlyRetrans >= 3; // 3 and 4 enable tail-loss probes
      const last = f.fins[f.fins.length - 1]!;
      const lastAnswer = f.answers[f.answers.length - 1] ?? null;
      // The retransmission timer: RTO = 200 ms minimum on a sub-millisecond path, doubled after each
      // timeout. With TLP the first copy is the probe (~200 ms: 2 RTT + the 200 ms delayed-ACK
      // allowance for a single segment in flight) and the RTO, rearmed after it, starts undoubled.
      const expected = f.gaps.map((_, i) => (tlp ? (i === 0 ? 0.2 : 0.2 * 2 ** (i - 1)) : 0.2 * 2 ** i));
      const checks = [
        check.eq(`the server sent its FIN ${n + 1} times (the first ${n} ACKs dropped)`, f.fins.length, n + 1, f.fins.map((x) => x.packet)),
        check.eq(`the fault dropped ${n} ACKs of the server's FIN at the server's input`, f.dropped, n),
        ...f.gaps.map((g, i) => check.near(`copy ${i + 1} came ${expected[i]} s after the previous one (${tlp && i === 0 ? 'tail-loss probe' : 'RTO'})`, g, expected[i]!, { abs: 0.06, rel: 0.3 }, [f.fins[i]!.packet, f.fins[i + 1]!.packet])),
        check.eq('the client, in TIME_WAIT, answered every copy with an ACK of w+1', f.answers.map((a) => a?.packet ?? null).filter((p) => p !== null).length, f.fins.length, f.answers.map((a) => a?.packet)),
        // The watcher reads every 5 ms; on a loaded machine it can sleep through one copy (0.2 s),
        // so not every copy need show a restart of its own; every restart it saw must fit one.
        ...f.tw.map((t) => check.within(`the TIME_WAIT timer went up from ${secs(t.reading.prevMs / 1000)} to ${secs(t.reading.remainingMs / 1000)} after packet ${t.fin?.packet}: it ends 60 s after that copy (deadline - (FIN + 60 s), s)`, t.offset, -0.1, 1.0, [t.fin?.packet])),
        // The decisive reading: after the last copy the timer ends 60 s after that copy, not 60 s
        // after the first ACK (the copies span ~0.8 s): it was restarted.
        check.within('after the last copy the TIME_WAIT timer ends 60 s after it (deadline - (last copy + 60 s), s; late readings at load 100 stamped up to 0.5 s late)', f.finalDeadline !== null ? f.finalDeadline - (last.absTime + 60) : null, -0.1, 1.0, [last.packet]),
        check.ok('... and not 60 s after the first ACK: the timer was pushed back by the copies', f.finalDeadline !== null && f.finalDeadline - (f.fins[0]!.absTime + 60) > (last.absTime - f.fins[0]!.absTime) / 2, f.finalDeadline !== null ? Number((f.finalDeadline - (f.fins[0]!.absTime + 60)).toFixed(3)) : null, `> ${((last.absTime - f.fins[0]!.absTime) / 2).toFixed(3)} s`, [f.fins[0]!.packet, last.packet]),
        ...(tlp ? [check.ok('the kernel counted a tail-loss probe (TcpExt.TCPLossProbes)', f.lossProbes >= 1, f.lossProbes, '>= 1')] : []),
        ...(f.lastAckOut ? [check.within('the kernel left LAST_ACK on the last ACK (ms after it was captured)', (f.lastAckOut.time - (lastAnswer?.absTime ?? NaN)) * 1000, -5, 50, [lastAnswer?.packet])] : []),
      ];
      const held = f.lastAckIn && f.lastAckOut ? f.lastAckOut.time - f.lastAckIn.time : null;
      return {
        checks,
        evidence: `the server's FIN (packet ${f.fins[0]!.packet}, seq w = ${f.fin2.seq}) went out ${f.fins.length} times: packets ${f.fins.map((x) => x.packet).join(', ')}, ` +
          `${f.gaps.map((g) => secs(g, 3)).join(', ')} apart (${tlp ? `the first a tail-loss probe, TCPLossProbes +${f.lossProbes}, then the RTO doubling` : 'tcp_early_retrans = 0: no probe, the RTO doubling'}); ` +
          `the client answered each with ACK ack = w+1 (packets ${f.answers.map((a) => a?.packet ?? '-').join(', ')}); the first ${f.dropped} were dropped at the server's input. ` +
          `In /proc the client's TIME_WAIT timer (first seen with ${secs(Number(f.twFirst?.remainingMs ?? NaN) / 1000)} left) went back up ${f.tw.length} times where a reading fell between two copies${f.tw.length ? `: ${f.tw.map((t) => `${secs(t.reading.prevMs / 1000)} -> ${secs(t.reading.remainingMs / 1000)} after packet ${t.fin?.packet}`).join(', ')}` : ''}; ` +
          `after the last copy it ended ${secs(f.finalDeadline !== null ? f.finalDeadline - (last.absTime + 60) : null, 3)} from that copy + 60 s, ${secs(f.finalDeadline !== null ? f.finalDeadline - (f.fins[0]!.absTime + 60) : null, 3)} later than 60 s after the first. ` +
          (held !== null ? `The kernel held the server in LAST_ACK for ${secs(held, 3)}, until packet ${lastAnswer?.packet}` : `The server's socket left the table after packet ${last.packet}'s ACK (kernel events: ${f.kernelMissing})`),
      };
    },
  },

  story: (f, ctx) => {
    const tlp = ctx.params.earlyRetrans >= 3;
    const lastAnswer = f.answers[f.answers.length - 1];
    return `The client's ACK of the server's FIN (packet ${f.answers[0]?.packet}) reached the server's interface and was dropped there, as were the next ${f.dropped - 1}. ` +
      `The server, still LAST_ACK, could not know whether its FIN or the ACK had been lost, so it resent the FIN ${f.fins.length - 1} times: ` +
      `${tlp ? `first a tail-loss probe after ${secs(f.gaps[0], 3)}, then on its RTO after ${f.gaps.slice(1).map((g) => secs(g, 3)).join(', ')} (the RTO doubles; the probe does not count as a timeout)` : `on its RTO after ${f.gaps.map((g) => secs(g, 3)).join(', ')}, doubling each time (no tail-loss probe with tcp_early_retrans = 0)`}. ` +
      `Because the client was waiting in TIME_WAIT, its kernel still knew the connection: every copy got an ACK, and each one set its TIME_WAIT timer back to 60 s ` +
      `(${f.tw.length ? `the timer went from ${f.tw.map((t) => `${secs(t.reading.prevMs / 1000)} back to ${secs(t.reading.remainingMs / 1000)}`).join(', then from ')}; ` : ''}in the end it ran until 60 s after the last copy, ${secs(f.finalDeadline !== null ? f.finalDeadline - (f.fins[0]!.absTime + 60) : null)} longer than the first ACK alone would have held it). ` +
      `The ACK in packet ${lastAnswer?.packet} got through and the server closed, ${secs(f.fins.length ? f.fins[f.fins.length - 1]!.time - f.fins[0]!.time : null)} after its first FIN. ` +
      `The capture alone cannot tell a dropped ACK from a delivered one (the analysis dates the server's CLOSED at packet ${enteredBy(f.conn, 'server', 'CLOSED')}); ${f.lastAckOut ? `the FIN copies and the kernel's LAST_ACK -> CLOSE right after packet ${lastAnswer?.packet} show which ACK arrived` : 'the FIN copies show which ACKs were lost: a server that got one would have stopped resending'}.`;
  },
});
