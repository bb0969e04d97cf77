/**
 * RST, and the flags of the TCP header, on real sockets. Four connections in one run: a connect to a
 * port nobody listens on (RST, ECONNREFUSED); an aborted socket (resetAndDestroy: RST, ECONNRESET at
 * the peer); a close with unread data (RST instead of FIN: RFC 2525, TcpExt.TCPAbortOnClose); and a
 * Python client that sends one byte with MSG_OOB, so the capture also holds URG, and the receiver's
 * byte count shows what Linux does with urgent data. The client namespace asks for ECN, so the SYNs
 * also carry the two flags RFC 3168 added (ECE, CWR).
 */
import { check, connFacts, defineLab, delta, isRst, ms, type ConnFacts, type Step } from '../../../src/lab/index.js';

const START = { timeoutMs: 30_000 }; // programs start slowly on a loaded machine
const FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'] as const;
const URG = 0x20;

export default defineLab({
  name: 'rst',
  title: 'RST: a closed port, an aborted socket, a close with unread data; and every flag in the header',
  topic: 'tcp/close',
  seconds: 3,
  needs: ['root', 'tcpdump', 'python3'],
  topology: { kind: 'veth' },
  // The client asks for ECN in its SYNs (ECE+CWR); the server answers ECN-capable (ECE) by default.
  sysctls: { 'net.ipv4.tcp_ecn': 1 },
  timeoutMs: 90_000,
  explanation: `RST ends a connection at once, without the FIN handshake. A SYN to a port nobody listens on
draws RST+ACK from the server's kernel and connect() fails with ECONNREFUSED. An application that aborts
(node's socket.resetAndDestroy(), SO_LINGER with a zero timeout) makes its kernel send RST; the peer's
next read fails with ECONNRESET. A close() while received data is still unread also sends RST instead
of FIN (RFC 2525 section 2.17; Linux counts it as TcpExt.TCPAbortOnClose): the peer learns that data was
lost. The textbook lists six flags: SYN, ACK, PSH, FIN and RST appear on any connection here; URG only
when an application sends urgent data (MSG_OOB), which node:net cannot do, so a Python client does. The
header has two more in use since RFC 3168: ECE and CWR, set on a SYN that asks for ECN.`,

  async run(ctx) {
    // 1. A closed port: a port with no socket in the server's namespace.
    const table = await ctx.waitForSockets('server', () => true, 5000);
    let closed = 20000 + Math.floor(Math.random() * 10000);
    while (table.some((s) => s.local.endsWith(`:${closed}`))) closed++;
    ctx.mark('ports', { closed });
    const refused = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port: closed }, 'refused');
    await refused.next('error', { ...START, where: (m) => m.code === 'ECONNREFUSED' });

    // 2. An aborted socket: the client resets a live connection.
    const srv = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 }, 'abort-server');
    const abortPort = Number((await srv.next('listening', START)).port);
    const cli = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port: abortPort }, 'abort-client');
    await cli.next('connected', START);
    await srv.next('accepted');
    cli.send({ do: 'write', bytes: 100 });
    await srv.next('data');
    ctx.mark('abort');
    cli.send({ do: 'reset' });
    await srv.next('error', { where: (m) => m.code === 'ECONNRESET' });

    // 3. Close with unread data: a Python listener that accepts but never reads.
    const lis = ctx.program('server', 'listener.py', { host: ctx.addr('server'), port: 0, backlog: 4 }, 'unread-server');
    const unreadPort = Number((await lis.next('listening', START)).port);
    const uc = ctx.program('client', 'tcp-peer', { mode: 'connect', host: ctx.addr('server'), port: unreadPort }, 'unread-client');
    const ucLocal = String((await uc.next('connected', START)).local);
    lis.send({ do: 'accept' });
    await lis.next('accepted');
    uc.send({ do: 'write', bytes: 100 });
    // Readiness: the 100 bytes sit in the server socket's receive queue, unread.
    await ctx.waitForSocket('server', (s) => s.remote === ucLocal && s.rxQueue >= 100, 10_000);
    ctx.mark('close with unread data');
    lis.send({ do: 'close-all' });
    await uc.next('error', { where: (m) => m.code === 'ECONNRESET' });

    // 4. Urgent data: a Python client sends 100 bytes, then 1 byte with MSG_OOB, to a node reader.
    const rd = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0, endOnEof: true }, 'urgent-server');
    const urgentPort = Number((await rd.next('listening', START)).port);
    ctx.mark('ports2', { abortPort, unreadPort, urgentPort });
    const oob = ctx.program('client', 'tcp-client.py', { host: ctx.addr('server'), port: urgentPort, mode: 'oob', bytes: 100 }, 'urgent-client');
    await rd.next('end', START);
    await oob.next('closed', START);
  },

  facts(ctx, setup) {
    const closed = Number(ctx.mark('ports')?.data?.closed);
    const p = ctx.mark('ports2')?.data as { abortPort: number; unreadPort: number; urgentPort: number } | undefined;
    const one = (port: number): ConnFacts | null => {
      const c = ctx.connectionsTo(port);
      return c.length === 1 ? connFacts(c[0]!) : null;
    };
    const refused = one(closed);
    const abort = one(p?.abortPort ?? -1);
    const unread = one(p?.unreadPort ?? -1);
    const urgent = one(p?.urgentPort ?? -1);
    if (!setup.expect('one connection to each of the four ports was captured', !!(refused && abort && unread && urgent), [!!refused, !!abort, !!unread, !!urgent], [true, true, true, true])) return null;
    const all = [refused!, abort!, unread!, urgent!];
    const rstFrom = (f: ConnFacts, side: 'client' | 'server'): Step | null => f.segments.find((s) => s.from === side && isRst(s)) ?? null;
    const errorOf = (name: string): string | null => String(ctx.program(name).messages.find((m) => m.event === 'error')?.code ?? '') || null;
    // Every flag bit, with the first packet that carried it.
    const firstWith = Object.fromEntries(FLAG_NAMES.map((n, i) => [n, all.flatMap((f) => f.segments).sort((a, b) => a.packet - b.packet).find((s) => (s.flags & (1 << i)) !== 0)?.packet ?? null])) as Record<(typeof FLAG_NAMES)[number], number | null>;
    const urg = urgent!.segments.find((s) => (s.flags & URG) !== 0) ?? null;
    const sentBytes = urgent!.segments.filter((s) => s.from === 'client').reduce((n, s) => n + s.len, 0);
    const readBytes = Number(ctx.program('urgent-server').messages.find((m) => m.event === 'end')?.total ?? NaN);
    const unreadData = unread!.segments.find((s) => s.from === 'client' && s.len > 0) ?? null;
    return {
      refused: refused!, abort: abort!, unread: unread!, urgent: urgent!, firstWith, urg, sentBytes, readBytes, unreadData,
      refusedRst: rstFrom(refused!, 'server'),
      abortRst: rstFrom(abort!, 'client'),
      unreadRst: rstFrom(unread!, 'server'),
      unreadFin: unread!.segments.find((s) => s.from === 'server' && (s.flags & 0x01) !== 0) ?? null,
      refusedErr: errorOf('refused'), abortErr: errorOf('abort-server'), unreadErr: errorOf('unread-client'),
      abortOnClose: delta(ctx.observations.server, 'TcpExt.TCPAbortOnClose'),
      outRsts: delta(ctx.observations.server, 'Tcp.OutRsts'),
    };
  },

  claims: {
    C12: (f) => {
      const seen = FLAG_NAMES.filter((n) => f.firstWith[n] !== null);
      const six = ['SYN', 'ACK', 'PSH', 'FIN', 'RST', 'URG'] as const;
      return {
        checks: [
          check.ok('a SYN to the closed port drew RST+ACK from the server (ack = x+1)', !!f.refusedRst && !!f.refused.handshake.syn && f.refusedRst.ack === ((f.refused.handshake.syn.seq + 1) >>> 0), f.refusedRst?.packet ?? null, 'RST+ACK', [f.refused.handshake.syn?.packet, f.refusedRst?.packet]),
          check.eq('connect() to the closed port failed with ECONNREFUSED', f.refusedErr, 'ECONNREFUSED'),
          check.ok('resetAndDestroy() sent RST from the client, no FIN', !!f.abortRst && !f.abort.segments.some((s) => s.from === 'client' && (s.flags & 0x01) !== 0), f.abortRst?.packet ?? null, 'RST, no FIN', [f.abortRst?.packet]),
          check.eq('the server, reading, got ECONNRESET', f.abortErr, 'ECONNRESET'),
          check.ok('closing with 100 unread bytes sent RST, not FIN', !!f.unreadRst && !f.unreadFin, [f.unreadRst?.packet ?? null, f.unreadFin?.packet ?? null], ['a RST', null], [f.unreadData?.packet, f.unreadRst?.packet]),
          check.ok('the kernel counted it as TcpExt.TCPAbortOnClose', f.abortOnClose >= 1, f.abortOnClose, '>= 1'),
          check.eq('the client whose data went unread got ECONNRESET', f.unreadErr, 'ECONNRESET'),
          ...six.map((n) => check.ok(`the capture holds a segment with ${n}`, f.firstWith[n] !== null, f.firstWith[n], 'a packet number', [f.firstWith[n]])),
          check.eq('the receiver read one byte fewer than was sent: the urgent byte left the stream', f.sentBytes - f.readBytes, 1, [f.urg?.packet]),
        ],
        evidence: `closed port ${f.refused.conn.serverPort}: SYN (packet ${f.refused.handshake.syn?.packet}), RST+ACK (packet ${f.refusedRst?.packet}) ${ms(f.refusedRst && f.refused.handshake.syn ? f.refusedRst.time - f.refused.handshake.syn.time : null)} later, ${f.refusedErr}; ` +
          `aborted socket: RST from the client (packet ${f.abortRst?.packet}), ${f.abortErr} at the server; ` +
          `close with unread data: 100 bytes (packet ${f.unreadData?.packet}) never read, the server's close() sent RST (packet ${f.unreadRst?.packet}) instead of FIN, TCPAbortOnClose +${f.abortOnClose}, ${f.unreadErr} at the client; ` +
          `flags seen (first packet): ${FLAG_NAMES.map((n) => `${n} ${f.firstWith[n] ?? '-'}`).join(', ')}; URG on packet ${f.urg?.packet}: the client sent ${f.sentBytes} bytes, the node reader got ${f.readBytes}`,
        differs: {
          textbook: 'six flags: SYN, ACK, PSH, FIN, RST, URG',
          linux: `the header has eight in use: ECE and CWR (RFC 3168, ECN) came later and this run's SYNs carry them; URG is still there, but Linux takes the urgent byte out of the stream (no SO_OOBINLINE): a reader that does not ask for it with MSG_OOB never sees it (RFC 6093: new applications should not use urgent data)`,
          measured: `flags seen: ${seen.join(', ')}; ${f.sentBytes} bytes sent with one urgent, ${f.readBytes} read`,
        },
      };
    },
  },

  story: (f) =>
    `Four connections, four endings. The SYN to port ${f.refused.conn.serverPort} met RST+ACK ${ms(f.refusedRst && f.refused.handshake.syn ? f.refusedRst.time - f.refused.handshake.syn.time : null)} later: no socket, so the kernel refused (${f.refusedErr}). ` +
    `The client that called resetAndDestroy() sent RST (packet ${f.abortRst?.packet}) with no FIN at all, and the server's read failed with ${f.abortErr}. ` +
    `The Python listener closed a socket holding 100 unread bytes: its kernel sent RST (packet ${f.unreadRst?.packet}), not FIN, so the client learned its data was lost (${f.unreadErr}). ` +
    `The last client sent ${f.sentBytes} bytes, one of them urgent (URG on packet ${f.urg?.packet}); the node reader got ${f.readBytes}: Linux kept the urgent byte out of the normal stream. ` +
    `The SYNs carried ECE and CWR (packet ${f.firstWith.ECE}): the client asked for ECN, a flag pair the six-flag list predates.`,
});
