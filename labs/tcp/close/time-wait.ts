/**
 * TIME_WAIT on Linux: how long it lasts (the socket timer in /proc/net/tcp: a fixed 60 s, not 2MSL),
 * and what happens when the same 4-tuple is used again while it lasts: bind() without SO_REUSEADDR,
 * connect() from the same port with and without TCP timestamps, an ephemeral port under each
 * tcp_tw_reuse setting, and tcp_max_tw_buckets = 0. Each experiment is its own client port (its own
 * 4-tuple) to one server port; the sysctls change in the client's namespace between experiments.
 * `--param full=true` waits out the whole TIME_WAIT of the first connection.
 */
import { check, connFacts, defineLab, ms, peakCount, secs, TcpState, type ConnFacts } from '../../../src/lab/index.js';
import type { ProgramMessage } from '../../../src/lab/types.js';
import { readSockets } from '../../../src/observe/index.js';
import type { SocketEntry } from '../../../src/observe/types.js';

/** Client ports, one per experiment (the namespaces are fresh each run, so fixed ports are free). */
const PORT = { watched: 40000, ts: 40001, noTs: 40002, noBucket: 40003, ephemeral: 40010 } as const;
const portOf = (ep: string): number => Number(ep.slice(ep.lastIndexOf(':') + 1));
const tw = (port: number) => (s: SocketEntry): boolean => s.state === TcpState.TIME_WAIT && portOf(s.local) === port;

export default defineLab({
  name: 'time-wait',
  title: 'TIME_WAIT: 60 s on Linux, and what reusing its 4-tuple does',
  topic: 'tcp/close',
  seconds: 5,
  needs: ['root', 'tcpdump', 'python3'],
  topology: { kind: 'veth' }, // not loopback: tcp_tw_reuse = 2 (the default) means "loopback only"
  params: {
    full: { type: 'boolean', default: false, help: 'wait out the whole TIME_WAIT of the first connection (about 60 s, with a countdown on stderr) and see the socket leave the table' },
  },
  // tcp_fin_timeout is the knob people reach for; it does not touch TIME_WAIT (the lab shows it).
  sysctls: { 'net.ipv4.tcp_fin_timeout': 10 },
  timeoutMs: 150_000, // full=true waits ~62 s; a normal run takes a few seconds
  explanation: `The side that closes first keeps the connection's 4-tuple in TIME_WAIT. The textbook says for
2MSL (RFC 793's MSL is 2 minutes: 4 minutes). Linux uses a fixed TCP_TIMEWAIT_LEN of 60 s, whatever the
MSL; tcp_fin_timeout (set to 10 here) only limits orphaned FIN_WAIT_2 sockets. /proc/net/tcp shows the
TIME_WAIT socket with its timer counting down.
While it lasts, may the same 4-tuple connect again? Classic bind() without SO_REUSEADDR fails with
EADDRINUSE. node (libuv) always sets SO_REUSEADDR, so bind succeeds and connect() decides: when the old
connection used TCP timestamps the kernel takes the TIME_WAIT entry over at once and starts the new
connection's ISN 65537 above the old one's last sequence number (old duplicates cannot fit, and
timestamps reject them); without timestamps connect() fails with EADDRNOTAVAIL. A port the kernel picks
itself (an ephemeral port) is reused from TIME_WAIT only with tcp_tw_reuse = 1 (2, the default, allows
it for loopback traffic only) and only tcp_tw_reuse_delay (1 s) after the last timestamp the old
connection received. tcp_max_tw_buckets = 0 skips TIME_WAIT altogether (TcpExt.TCPTimeWaitOverflow).`,

  async run(ctx) {
    const srv = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0, endOnEof: true }, 'server');
    const port = Number((await srv.next('listening', { timeoutMs: 30_000 })).port);
    ctx.mark('port', { port });
    const dial = ctx.program('client', 'tcp-dial', { host: ctx.addr('server'), port }, 'client');
    await dial.next('ready', { timeoutMs: 30_000 });
    const ok = (id: string): ((m: ProgramMessage) => boolean) => (m) => m.id === id;
    // One connection, closed by the client first; resolves when it is closed or failed.
    const open = async (id: string, localPort?: number): Promise<ProgramMessage> => {
      dial.send({ do: 'open', id, ...(localPort ? { localPort } : {}) });
      // node emits 'close' after 'error' too: one wait covers both endings.
      await dial.next('closed', { where: ok(id), timeoutMs: 30_000 });
      const r = dial.all('error').find(ok(id)) ?? dial.all('closed').find(ok(id))!;
      ctx.mark(`open ${id}`, { event: r.event, code: r.code ?? null });
      return r;
    };
    const waitTw = async (p: number): Promise<SocketEntry> => ctx.waitForSocket('client', tw(p), 30_000);
    // The sampled table keeps a socket's first reading while only its timer moves: read the timer
    // afresh, dated at the middle of the read, with the read's length as its uncertainty.
    const timerNow = async (p: number): Promise<{ t: number; spread: number; remainingMs: number } | null> => {
      const t0 = Date.now() / 1000;
      const s = (await readSockets(ctx.sandbox.nsPid('client'))).find(tw(p));
      const t1 = Date.now() / 1000;
      return s ? { t: (t0 + t1) / 2, spread: t1 - t0, remainingMs: s.timerRemainingMs } : null;
    };
    const set = async (spec: Record<string, string | number>): Promise<void> => {
      const r = await ctx.sandbox.setSysctls(spec, 'client');
      ctx.mark('sysctl', Object.fromEntries(r.map((x) => [x.key, x.value])));
    };

    // 1. The watched TIME_WAIT: its timer, and (full=true) its end.
    await open('watched', PORT.watched);
    await waitTw(PORT.watched);
    ctx.mark('watched seen', (await timerNow(PORT.watched)) ?? undefined);

    // 2. Timestamps on (the default): bind without SO_REUSEADDR, then node's connect from the same port.
    await open('ts-1', PORT.ts);
    await waitTw(PORT.ts);
    const py = ctx.program('client', 'bind-connect.py', { host: ctx.addr('server'), port, localPort: PORT.ts, reuseaddr: false }, 'bind-no-reuseaddr');
    const bindErr = await py.next('error', { where: (m) => m.syscall === 'bind', timeoutMs: 30_000 });
    ctx.mark('bind without SO_REUSEADDR', { code: bindErr.code });
    const c0 = await ctx.counters('client');
    await open('ts-2', PORT.ts);
    const c1 = await ctx.counters('client');
    ctx.mark('counters ts', { TWRecycled: (c1['TcpExt.TWRecycled'] ?? 0) - (c0['TcpExt.TWRecycled'] ?? 0) });

    // The watched socket's timer again, a few seconds on: the countdown (read here, well before it
    // could expire even when a loaded machine stretches the rest of the run).
    ctx.mark('watched later', (await timerNow(PORT.watched)) ?? undefined);

    // 3. Timestamps off: the same experiment fails at connect().
    await set({ 'net.ipv4.tcp_timestamps': 0 });
    await open('nots-1', PORT.noTs);
    await waitTw(PORT.noTs);
    await open('nots-2', PORT.noTs);
    ctx.mark('nots TIME_WAIT after', { present: ((await ctx.waitForSockets('client', () => true, 1000)).some(tw(PORT.noTs))) });

    // 4. No TIME_WAIT at all: tcp_max_tw_buckets = 0 (timestamps still off).
    const before = await ctx.counters('client');
    const prev = (await ctx.sandbox.setSysctls({ 'net.ipv4.tcp_max_tw_buckets': 0 }, 'client'))[0]!.previous;
    await open('nobucket-1', PORT.noBucket);
    await ctx.waitForSockets('client', (all) => !all.some((s) => portOf(s.local) === PORT.noBucket), 10_000);
    const after = await ctx.counters('client');
    ctx.mark('counters nobucket', { TCPTimeWaitOverflow: (after['TcpExt.TCPTimeWaitOverflow'] ?? 0) - (before['TcpExt.TCPTimeWaitOverflow'] ?? 0) });
    await open('nobucket-2', PORT.noBucket);
    await set({ 'net.ipv4.tcp_max_tw_buckets': prev, 'net.ipv4.tcp_timestamps': 1 });

    // 5. An ephemeral port: one port in the range, so the second connect() must take the TIME_WAIT one.
    await set({ 'net.ipv4.ip_local_port_range': `${PORT.ephemeral} ${PORT.ephemeral}`, 'net.ipv4.tcp_tw_reuse': 0 });
    await open('eph-1');
    await waitTw(PORT.ephemeral);
    await open('eph-reuse0');
    await set({ 'net.ipv4.tcp_tw_reuse': 2 });
    await open('eph-reuse2');
    await set({ 'net.ipv4.tcp_tw_reuse': 1 });
    // Retry until the kernel lets it through (tcp_tw_reuse_delay after the last timestamp): a readiness poll.
    for (let i = 1; ; i++) {
      const r = await open(`eph-reuse1-${i}`);
      if (r.event === 'closed' || r.code !== 'EADDRNOTAVAIL' || i >= 60) break;
      await ctx.sleep(50);
    }

    // 6. The watched socket's whole life (full=true).
    if (ctx.params.full) {
      // A countdown line each second from a fresh read; the end is the sampled table losing the socket.
      const tick = setInterval(() => {
        void timerNow(PORT.watched).then((r) => {
          if (r) process.stderr.write(`time-wait: the TIME_WAIT socket on port ${PORT.watched} has ${(r.remainingMs / 1000).toFixed(0).padStart(2)} s left${process.stderr.isTTY ? '\r' : '\n'}`);
        }, () => {});
      }, 1000);
      try {
        await ctx.waitForSockets('client', (all) => !all.some(tw(PORT.watched)), 75_000);
      } finally {
        clearInterval(tick);
      }
      if (process.stderr.isTTY) process.stderr.write('\n');
      ctx.mark('watched gone');
    }
  },

  facts(ctx, setup) {
    const port = Number(ctx.mark('port')?.data?.port);
    const conns = ctx.connectionsTo(port).map(connFacts);
    const from = (p: number): ConnFacts[] => conns.filter((c) => portOf(c.conn.client) === p).sort((a, b) => (a.handshake.syn?.time ?? 0) - (b.handshake.syn?.time ?? 0));
    const msgs = ctx.program('client').messages;
    // A connection's ending: its error if it failed (node then also reports 'closed'), else 'closed'.
    const result = (id: string): ProgramMessage | null => msgs.find((m) => m.id === id && m.event === 'error') ?? msgs.find((m) => m.id === id && m.event === 'closed') ?? null;
    const watched = from(PORT.watched)[0];
    if (!setup.expect('the watched connection closed, client first, with its last ACK captured', !!watched?.close.lastAck && watched.close.firstFin?.from === 'client', watched?.close.lastAck?.packet ?? null, 'a last ACK')) return null;
    const seen = ctx.mark('watched seen');
    const later = ctx.mark('watched later');
    if (!setup.expect("the watched socket's TIME_WAIT timer was read twice", !!(seen?.data && later?.data), [seen?.data ?? null, later?.data ?? null])) return null;
    const reuse1 = [...new Set(msgs.filter((m) => typeof m.id === 'string' && m.id.startsWith('eph-reuse1-')).map((m) => String(m.id)))].map((id) => result(id)!);
    return {
      port, watched: watched!,
      seen: { t: Number(seen?.data?.t), spread: Number(seen?.data?.spread), left: Number(seen?.data?.remainingMs) / 1000 },
      later: { t: Number(later?.data?.t), spread: Number(later?.data?.spread), left: Number(later?.data?.remainingMs) / 1000 },
      gone: ctx.mark('watched gone'),
      ts: from(PORT.ts), noTs: from(PORT.noTs), noBucket: from(PORT.noBucket), eph: from(PORT.ephemeral),
      bindCode: ctx.mark('bind without SO_REUSEADDR')?.data?.code ?? null,
      twRecycled: Number(ctx.mark('counters ts')?.data?.TWRecycled ?? NaN),
      overflow: Number(ctx.mark('counters nobucket')?.data?.TCPTimeWaitOverflow ?? NaN),
      noBucketTw: peakCount(ctx.observations.client, tw(PORT.noBucket)),
      noTsStillTw: ctx.mark('nots TIME_WAIT after')?.data?.present === true,
      r: { ts2: result('ts-2'), nots2: result('nots-2'), nob2: result('nobucket-2'), reuse0: result('eph-reuse0'), reuse2: result('eph-reuse2') },
      reuse1,
      finTimeout: ctx.sysctls.find((s) => s.key === 'net.ipv4.tcp_fin_timeout')?.value ?? null,
    };
  },

  claims: {
    C08: (f, ctx) => {
      const counted = f.seen.left - f.later.left;
      const elapsed = f.later.t - f.seen.t;
      const entered = f.watched.close.lastAck!.absTime; // the client entered TIME_WAIT when it sent this ACK
      const life = f.gone ? f.gone.t - entered : null;
      return {
        checks: [
          check.near('the TIME_WAIT timer started at 60 s (TCP_TIMEWAIT_LEN)', f.seen.left + (f.seen.t - entered), 60, { abs: 0.2 + f.seen.spread }, [f.watched.close.lastAck!.packet]),
          check.near('it counted down one second per second (within 0.05 s plus the time the two reads of /proc took)', counted, elapsed, { abs: 0.05 + f.seen.spread + f.later.spread }),
          check.eq('with tcp_fin_timeout = 10 s (it was set so)', f.finTimeout, '10'),
          ...(ctx.params.full ? [check.within('the socket left the table 60 s after it entered TIME_WAIT (the timer wheel may add up to ~2 s)', life, 59.9, 63)] : []),
        ],
        evidence: `packet ${f.watched.close.lastAck!.packet}: the client's last ACK put its socket in TIME_WAIT; /proc/net/tcp showed ${secs(f.seen.left)} left ${ms(f.seen.t - entered)} later ` +
          `and ${secs(f.later.left)} left ${secs(elapsed)} after that (${secs(counted)} counted down), with tcp_fin_timeout = ${f.finTimeout} s` +
          (life !== null ? `; the socket left the table ${secs(life)} after it entered TIME_WAIT` : ' (run with --param full=true to see it leave the table)'),
        differs: {
          textbook: 'TIME_WAIT lasts 2MSL: 4 minutes with RFC 793\'s MSL of 2 minutes (30 s to 2 min MSL in practice)',
          linux: 'a fixed 60 s (TCP_TIMEWAIT_LEN), compiled in; no sysctl changes it (tcp_fin_timeout governs orphaned FIN_WAIT_2 only)',
          measured: `the timer started at ${secs(f.seen.left + (f.seen.t - entered))}${life !== null ? `, the socket was gone after ${secs(life)}` : ''}`,
        },
      };
    },
    C10: (f) => {
      const old = f.ts[0];
      const again = f.ts[1];
      const isn = again?.handshake.syn?.seq ?? null;
      const oldNxt = old?.close.firstFin ? (old.close.firstFin.seq + 1) >>> 0 : null; // the old connection's last sequence number + 1
      const jump = isn !== null && oldNxt !== null ? (isn - oldNxt) >>> 0 : null;
      const ephFin = f.eph[0]?.close.secondFin ?? null; // the last timestamped segment the TIME_WAIT socket got
      const win = f.reuse1.find((m) => m.event === 'closed') ?? null;
      const fails1 = f.reuse1.filter((m) => m.event === 'error');
      const reuseAt = win && ephFin ? (f.eph[1]?.handshake.syn?.absTime ?? win.t) - ephFin.absTime : null;
      const lastFail = fails1.length && ephFin ? fails1[fails1.length - 1]!.t - ephFin.absTime : null;
      const code = (m: ProgramMessage | null): string | null => (m ? (m.event === 'error' ? String(m.code) : 'connected') : null);
      return {
        checks: [
          check.eq('bind() without SO_REUSEADDR to a port in TIME_WAIT fails with EADDRINUSE', f.bindCode, 'EADDRINUSE'),
          check.eq('timestamps on: node (SO_REUSEADDR) connected from the same port while TIME_WAIT lasted', code(f.r.ts2), 'connected'),
          check.eq('... and the server saw a second connection on the same 4-tuple', f.ts.length, 2, [old?.handshake.syn?.packet, again?.handshake.syn?.packet]),
          check.eq("... whose ISN is the old connection's next sequence number + 65537 (tcp_twsk_unique)", jump, 65537, [old?.close.firstFin?.packet, again?.handshake.syn?.packet]),
          check.eq('timestamps off: connect() from the same port failed with EADDRNOTAVAIL', code(f.r.nots2), 'EADDRNOTAVAIL'),
          check.eq('... sending nothing (one connection on that 4-tuple in the capture)', f.noTs.length, 1),
          check.ok('... and the TIME_WAIT entry was still there', f.noTsStillTw, f.noTsStillTw, true),
          check.eq('tcp_max_tw_buckets = 0: TcpExt.TCPTimeWaitOverflow counted the skipped TIME_WAIT', f.overflow, 1),
          check.eq('... and /proc/net/tcp never showed that port in TIME_WAIT', f.noBucketTw, 0),
          check.eq('... and the same port connected again at once, timestamps off', code(f.r.nob2), 'connected'),
          check.eq('ephemeral port, tcp_tw_reuse = 0: connect() failed with EADDRNOTAVAIL', code(f.r.reuse0), 'EADDRNOTAVAIL'),
          check.eq('ephemeral port, tcp_tw_reuse = 2 (loopback only; this is a veth): EADDRNOTAVAIL', code(f.r.reuse2), 'EADDRNOTAVAIL'),
          check.ok('ephemeral port, tcp_tw_reuse = 1: connected, taking the TIME_WAIT port over', !!win && f.eph.length === 2, [win?.event ?? null, f.eph.length], ['closed', 2]),
          check.ok('... only once tcp_tw_reuse_delay (1 s) had passed since the last timestamp it received', reuseAt !== null && reuseAt >= 0.99 && (lastFail === null || lastFail < 1.1), [reuseAt, lastFail], 'reuse >= 1 s after the FIN; failures before ~1 s', [ephFin?.packet, f.eph[1]?.handshake.syn?.packet]),
        ],
        evidence: `with timestamps the client reconnected from port ${PORT.ts} at its first attempt (packet ${again?.handshake.syn?.packet}: SYN seq ${isn} = old next seq ${oldNxt} + ${jump}; TWRecycled +${f.twRecycled}), while bind() without SO_REUSEADDR got ${f.bindCode}; ` +
          `without timestamps connect() from port ${PORT.noTs} got ${code(f.r.nots2)}; with tcp_max_tw_buckets = 0 there was no TIME_WAIT (TCPTimeWaitOverflow +${f.overflow}) and port ${PORT.noBucket} ${code(f.r.nob2)}; ` +
          `an ephemeral port in TIME_WAIT: tcp_tw_reuse 0 -> ${code(f.r.reuse0)}, 2 -> ${code(f.r.reuse2)}, 1 -> ${fails1.length} x EADDRNOTAVAIL, then connected ${secs(reuseAt)} after the old connection's last timestamped segment (packet ${ephFin?.packet})`,
        differs: {
          textbook: 'while TIME_WAIT lasts, the same 4-tuple cannot open a new connection',
          linux: 'with TCP timestamps a connect() from the same port (SO_REUSEADDR, which node always sets) takes the TIME_WAIT entry over at once, its ISN 65537 past the old sequence numbers so old duplicates cannot be mistaken for new data; without timestamps connect() fails with EADDRNOTAVAIL; without SO_REUSEADDR bind() fails with EADDRINUSE; an ephemeral port leaves TIME_WAIT early only with tcp_tw_reuse = 1 (or 2 on loopback), 1 s after the last timestamp; tcp_max_tw_buckets = 0 skips TIME_WAIT',
          measured: `same port reused at the first attempt, ${ms(again?.handshake.syn && old?.close.lastAck ? again.handshake.syn.time - old.close.lastAck.time : null)} into TIME_WAIT (ISN +${jump}); ephemeral port reused ${secs(reuseAt)} after the last timestamp`,
        },
      };
    },
  },

  story: (f) =>
    `The first connection's socket entered TIME_WAIT with its last ACK (packet ${f.watched.close.lastAck!.packet}) and /proc/net/tcp showed ${secs(f.seen.left)}, then ${secs(f.later.left)}: ` +
    `a 60 s countdown, even with tcp_fin_timeout at ${f.finTimeout} s${f.gone ? `; it left the table after ${secs(f.gone.t - f.watched.close.lastAck!.absTime)}` : ''}. ` +
    `Reusing a 4-tuple in that time: bind() alone (no SO_REUSEADDR) got ${f.bindCode}; node's connect() from the same port succeeded because both sides used timestamps, and failed with ` +
    `${f.r.nots2?.code ?? '?'} once they were off. An ephemeral port came back only with tcp_tw_reuse = 1; tcp_max_tw_buckets = 0 made TIME_WAIT disappear (and its protection with it).`,
});
