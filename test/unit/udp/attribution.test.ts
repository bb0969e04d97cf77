/**
 * The attribution rules on hand-made evidence (the kernel cannot be asked for these exact
 * disagreements): each lost datagram gets one cause, and what no source explains stays unexplained.
 */
import { describe, expect, it } from 'vitest';
import { attribute, type AttributionInput } from '../../../src/udp/attribution.js';
import type { InterfaceScan, NflogScan } from '../../../src/udp/capture-scan.js';

const COUNT = 10;

function input(over: Partial<AttributionInput> = {}): AttributionInput {
  const iface: InterfaceScan = {
    packets: COUNT, udpPackets: COUNT, reached: new Uint8Array(COUNT).fill(1), fragments: new Uint16Array(COUNT).fill(1),
    fragmentedDatagrams: 0, icmpTimeExceeded: 0, icmpUnreachable: 0, byIpId: new Map(),
  };
  return {
    count: COUNT, received: new Uint8Array(COUNT).fill(1), failedSends: [], errorCodes: {}, iface, captureComplete: true,
    nflog: null, ruleDropped: null, socketDrops: 0, receiverCounters: {}, senderCounters: {}, linkDrops: 0, qdiscDrops: 0, ...over,
  };
}

const by = (a: ReturnType<typeof attribute>): Record<string, number> => Object.fromEntries(a.causes.map((c) => [c.cause, c.datagrams]));

describe('udp loss attribution', () => {
  it('no loss: every cause 0, nothing unexplained', () => {
    const a = attribute(input());
    expect(a.lost).toBe(0);
    expect(a.explained).toBe(0);
    expect(a.unexplained).toBe(0);
  });

  it('each source claims its own datagrams: send error, rule, not captured, socket drops', () => {
    const received = new Uint8Array(COUNT).fill(1);
    for (const s of [1, 2, 3, 4, 5]) received[s] = 0;
    const x = input({ received, failedSends: [1], errorCodes: { ECONNREFUSED: 1 }, socketDrops: 1, receiverCounters: { 'Udp.RcvbufErrors': 1 } });
    const dropped = new Uint16Array(COUNT);
    dropped[2] = 1;
    x.nflog = { packets: 1, dropped, unresolved: 0 } satisfies NflogScan;
    x.ruleDropped = 1;
    x.iface.reached[1] = 0; // a failed send never reaches the wire
    x.iface.reached[3] = 0; // lost on the way
    const a = attribute(x);
    expect(a.lost).toBe(5);
    expect(by(a)).toEqual({ 'send-error': 1, 'injected-loss': 1, 'before-receiver': 1, 'receive-buffer': 1, reassembly: 0 });
    expect(a.unexplained).toBe(1); // seq 5 reached the host and nothing counted its drop
    expect(a.notes).toEqual([]);
  });

  it('reassembly failures beyond those the injected loss explains are their own cause', () => {
    const received = new Uint8Array(COUNT).fill(1);
    received[0] = 0;
    received[1] = 0;
    const x = input({ received, receiverCounters: { 'Ip.ReasmFails': 2 } });
    x.iface.fragments.fill(3);
    const dropped = new Uint16Array(COUNT);
    dropped[0] = 1; // one of three fragments dropped: a ReasmFails for the rule's datagram
    x.nflog = { packets: 1, dropped, unresolved: 0 };
    x.ruleDropped = 1;
    expect(by(attribute(x))).toMatchObject({ 'injected-loss': 1, reassembly: 1 });
  });

  it('the socket cannot be charged more than the datagrams that reached the host: the rest is a note', () => {
    const received = new Uint8Array(COUNT).fill(1);
    received[0] = 0;
    const a = attribute(input({ received, socketDrops: 3 }));
    expect(by(a)['receive-buffer']).toBe(1);
    expect(a.notes.join(' ')).toContain('3 drops');
  });

  it('with an incomplete capture, datagrams it missed are charged by the counters, not assumed lost on the way', () => {
    const received = new Uint8Array(COUNT).fill(1);
    received[0] = 0;
    received[1] = 0;
    const x = input({ received, captureComplete: false, socketDrops: 2 });
    x.iface.reached[0] = 0;
    x.iface.reached[1] = 0;
    const a = attribute(x);
    expect(by(a)).toMatchObject({ 'receive-buffer': 2, 'before-receiver': 0 });
    expect(a.notes.join(' ')).toContain('capture missed');
  });

  it("a kernel-event source that names each datagram's drop reason is shown beside the cause it corroborates", () => {
    const received = new Uint8Array(COUNT).fill(1);
    received[3] = 0;
    received[4] = 0;
    const a = attribute(input({ received, socketDrops: 2, kernelBySeq: new Map([[3, 'SOCKET_RCVBUFF'], [4, 'SOCKET_RCVBUFF']]) }));
    const rb = a.causes.find((c) => c.cause === 'receive-buffer')!;
    expect(rb.datagrams).toBe(2);
    expect(rb.evidence).toContain('kfree_skb: SOCKET_RCVBUFF 2');
  });
});
