/**
 * Can the third segment carry data? Three clients against one node:net server: node:net writing at
 * once (a pure ACK, then data), a client whose kernel holds the third segment back so the data rides
 * on it (TCP_DEFER_ACCEPT on the connecting socket), and TCP Fast Open twice (the first connection
 * asks for a cookie, the second puts its data in the SYN itself).
 */
import { check, connFacts, defineLab, ms, type ConnFacts } from '../../../src/lab/index.js';

export default defineLab({
  name: 'third-segment-data',
  title: 'Data on the third segment, and in the SYN itself (TCP Fast Open)',
  topic: 'tcp/open',
  seconds: 2,
  needs: ['root', 'python3'],
  topology: { kind: 'loopback' },
  // 0x1 client, 0x2 server, 0x400 every listener takes TFO without setsockopt (node:net cannot set TCP_FASTOPEN).
  sysctls: { 'net.ipv4.tcp_fastopen': 0x403 },
  explanation: `The textbook says the third segment may carry data. Whether it does is the client
kernel's choice. node:net's write() right after connect() waits in libuv until the connection is up:
the kernel has already sent a pure ACK, and the data follows in a segment of its own with the same
sequence number (a pure ACK consumes none). The kernel delays the third segment only when it expects
data: a writer already blocked in the kernel, or TCP_DEFER_ACCEPT set on the connecting socket (a
Python client here: node:net cannot set it); then the ACK rides on the first data segment. TCP Fast
Open (RFC 7413, net.ipv4.tcp_fastopen in the namespace) goes further: the first connection asks the
server for a cookie (an empty TFO option in the SYN) and gets one in the SYN-ACK; the next connection
sends the cookie and its data in the SYN itself, and the server hands the data to the application
before the handshake is over. node:net has no MSG_FASTOPEN, so the TFO client is Python too.`,

  async run(ctx) {
    const server = ctx.program('server', 'tcp-peer', { mode: 'listen', host: ctx.addr('server'), port: 0 });
    const port = Number((await server.next('listening')).port);
    const host = ctx.addr('server');
    const ports: Record<string, number> = {};
    let ends = 0;
    const closeServerSide = async (): Promise<void> => {
      await server.next('end', { nth: ++ends });
      server.send({ do: 'end' });
    };
    // 1. node:net writes at once.
    const node = ctx.program('client', 'tcp-peer', { mode: 'connect', host, port, writeAtOnce: 100 }, 'node-client');
    ports.node = Number((await node.next('connected')).port);
    await server.next('data', { nth: 1 });
    node.send({ do: 'end' });
    await closeServerSide();
    await node.next('closed');
    // 2. The kernel holds the third segment back for the data (TCP_DEFER_ACCEPT).
    const defer = ctx.program('client', 'tcp-client.py', { host, port, mode: 'defer', bytes: 100 }, 'defer-client');
    ports.defer = Number((await defer.next('sent')).local);
    await closeServerSide();
    await defer.next('closed');
    // 3. TCP Fast Open: a cookie request, then data in the SYN.
    for (const name of ['tfo-1', 'tfo-2']) {
      const c = ctx.program('client', 'tcp-client.py', { host, port, mode: 'tfo', bytes: 100 }, name);
      ports[name] = Number((await c.next('sent')).local);
      await closeServerSide();
      await c.next('closed');
    }
    ctx.mark('ports', { ...ports, server: port });
  },

  facts(ctx, setup) {
    const p = ctx.mark('ports')?.data as Record<string, number> | undefined;
    if (!setup.expect('all four clients ran', !!p, p)) return null;
    const byPort = (lp: number): ConnFacts | null => {
      const c = ctx.connectionsTo(p!.server!).find((x) => x.clientPort === lp);
      return c ? connFacts(c) : null;
    };
    const conns = { node: byPort(p!.node!), defer: byPort(p!.defer!), tfo1: byPort(p!['tfo-1']!), tfo2: byPort(p!['tfo-2']!) };
    const missing = Object.entries(conns).filter(([, c]) => !c?.handshake.syn || !c.handshake.synAck).map(([k]) => k);
    if (!setup.expect('each connection was captured with its SYN and SYN-ACK', missing.length === 0, missing, [])) return null;
    const { node, defer, tfo1, tfo2 } = conns as Record<keyof typeof conns, ConnFacts>;
    const firstData = (c: ConnFacts) => c.segments.find((s) => s.from === 'client' && s.len > 0) ?? null;
    return { node, defer, tfo1, tfo2, nodeData: firstData(node), deferData: firstData(defer), tfo1Data: firstData(tfo1) };
  },

  claims: {
    H05: (f) => {
      const n3 = f.node.handshake.third!;
      const d3 = f.defer.handshake.third!;
      const syn2 = f.tfo2.handshake.syn!;
      const synAck2 = f.tfo2.handshake.synAck!;
      const tfoReq = f.tfo1.handshake.syn!.seg.options.tfo;
      const cookie = f.tfo1.handshake.synAck!.seg.options.tfo;
      return {
        checks: [
          check.eq('node:net writing at once: the third segment is a pure ACK', [n3.len, n3.flags & 0x08], [0, 0], [n3.packet]),
          check.ok('node:net: the data follows with the same sequence number (the pure ACK consumed none)', !!f.nodeData && f.nodeData.packet > n3.packet && f.nodeData.seq === n3.seq, f.nodeData ? [f.nodeData.packet, f.nodeData.relSeq] : null, [`after ${n3.packet}`, 1], [n3.packet, f.nodeData?.packet]),
          check.ok('TCP_DEFER_ACCEPT: the third segment carries the data', d3.len === 100 && d3.relSeq === 1, [d3.len, d3.relSeq], [100, 1], [d3.packet]),
          check.eq('no SYN or SYN-ACK without TFO carries data', [f.node.handshake.syn!.len, f.node.handshake.synAck!.len, f.defer.handshake.syn!.len, f.defer.handshake.synAck!.len], [0, 0, 0, 0]),
          check.eq('TFO, first connection: the SYN asks for a cookie (an empty TFO option) and carries no data', [tfoReq, f.tfo1.handshake.syn!.len], ['', 0], [f.tfo1.handshake.syn!.packet]),
          check.ok('TFO, first connection: the SYN-ACK brings a cookie', typeof cookie === 'string' && cookie.length > 0, cookie ?? null, 'a cookie', [f.tfo1.handshake.synAck!.packet]),
          check.ok('TFO, second connection: the SYN carries the cookie and the data', syn2.len === 100 && syn2.seg.options.tfo === cookie, [syn2.len, syn2.seg.options.tfo], [100, cookie], [syn2.packet]),
          check.eq('TFO: the SYN-ACK acknowledges the SYN and its data (ack = x + 1 + 100)', synAck2.ack, (syn2.seq + 101) >>> 0, [synAck2.packet]),
        ],
        evidence: `node:net, writing at once: packet ${n3.packet} is a pure ACK (seq x+1) and the data follows in packet ${f.nodeData?.packet} with the same seq; ` +
          `TCP_DEFER_ACCEPT on the client: the third segment (packet ${d3.packet}) carried ${d3.len} bytes at seq x+1; ` +
          `TFO: the first SYN (packet ${f.tfo1.handshake.syn!.packet}) asked for a cookie and got ${cookie} in the SYN-ACK; the second SYN (packet ${syn2.packet}) carried that cookie and ${syn2.len} bytes, acknowledged by the SYN-ACK with ack = x+101`,
      };
    },
  },

  story: (f) =>
    `The textbook's "may" is literal. node:net's early write did not ride on the third segment: the kernel acknowledged the SYN-ACK at once (packet ${f.node.handshake.third!.packet}) ` +
    `and sent the data ${ms(f.nodeData ? f.nodeData.time - f.node.handshake.third!.time : null)} later under the same sequence number, because a pure ACK takes none. ` +
    `With TCP_DEFER_ACCEPT the client's kernel waited for the data and saved a segment. TCP Fast Open saved a round trip: on the second connection the data came with the SYN, ` +
    `and the server's SYN-ACK ${ms(f.tfo2.handshake.synAck!.time - f.tfo2.handshake.syn!.time)} later already acknowledged all ${f.tfo2.handshake.syn!.len} bytes; without a cookie (the first connection) the data had to wait for the handshake.`,
});
