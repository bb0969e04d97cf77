/**
 * What the reordering, duplicates and checksum labs share: wire-size segments on the veth pair
 * (segmentation offloads off, so the capture and the fault rules see one MSS-sized segment per
 * packet, not a 64 KiB super-segment), one tcp-bulk connection, and the end-to-end check of the
 * stream (bytes and SHA-256 the sender wrote against what the reading application got).
 */
import { setOffloads, type LabJudgeContext, type LabRunContext } from '../../../src/lab/index.js';
import type { ProgramHandle } from '../../../src/lab/types.js';

/**
 * veth offloads by default: TSO/GSO on (the sender hands the veth 64 KiB skbs and the peer receives
 * them whole: a capture shows super-segments), tx checksumming on (checksums are never computed:
 * the capture at the sender shows them "incorrect", the receiver trusts them). With tso/gso off
 * TCP still builds multi-segment skbs, but the client's device cuts them into wire-size segments
 * before the veth: the capture and the server's fault rules see one segment per packet.
 * `checksums: true` also switches tx checksumming off on the client (its kernel computes every
 * checksum in software, the server verifies it) and sets gso_max_segs 1, so each skb leaving TCP
 * is one segment already (an nftables rule at the client's postrouting then touches exactly one).
 * Before the connection: a socket takes the device's features when it connects.
 */
export async function wireSizeSegments(ctx: LabRunContext, opts: { checksums?: boolean } = {}): Promise<void> {
  await setOffloads(ctx, ['server'], { tso: false, gso: false });
  const [client] = await setOffloads(ctx, ['client'], { tso: false, gso: false, ...(opts.checksums ? { tx: false } : {}) });
  if (opts.checksums) await ctx.exec('client', ['ip', 'link', 'set', 'dev', client!.iface, 'gso_max_segs', '1']);
  const onOff = (v: boolean | undefined): string => (v === undefined ? '?' : v ? 'on' : 'off');
  ctx.mark('offloads', { tso: onOff(client!.after.tso), gso: onOff(client!.after.gso), tx: onOff(client!.after.tx) });
}

export interface Stream {
  server: ProgramHandle;
  client: ProgramHandle;
  port: number;
  clientPort: number;
}

/**
 * A tcp-bulk reader in the server namespace ('reader') and a sender connected to it ('sender'),
 * both ready. `notifyAt`: stream offsets the reader reports ('reached') once it has read that far.
 */
export async function openStream(ctx: LabRunContext, opts: { notifyAt?: number[] } = {}): Promise<Stream> {
  const server = ctx.program('server', 'tcp-bulk', { mode: 'listen', host: ctx.addr('server'), port: 0, ...opts }, 'reader');
  const port = Number((await server.next('listening', { timeoutMs: 30_000 })).port);
  const client = ctx.program('client', 'tcp-bulk', { mode: 'connect', host: ctx.addr('server'), port }, 'sender');
  const clientPort = Number((await client.next('connected', { timeoutMs: 30_000 })).port);
  await server.next('accepted', { timeoutMs: 30_000 });
  ctx.mark('stream', { port, clientPort });
  return { server, client, port, clientPort };
}

/** The sender's FIN; once the reader has read to it (its 'eof'), the reader closes too. */
export async function endStream(s: Stream, timeoutMs: number): Promise<void> {
  s.client.send({ do: 'end' });
  await s.server.next('eof', { timeoutMs });
  s.server.send({ do: 'end' });
}

/** Send `bytes`, end the stream, and wait until the reader has read it all. */
export async function sendAll(s: Stream, bytes: number, timeoutMs: number): Promise<void> {
  s.client.send({ do: 'send', bytes });
  await s.client.next('sent', { timeoutMs });
  await endStream(s, timeoutMs);
}

/** Poll a host's kernel counter until it reaches `min` or `timeoutMs` passes: the last value read. */
export async function pollCounter(ctx: LabRunContext, role: 'client' | 'server', key: string, min: number, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = (await ctx.counters(role))[key] ?? 0;
    if (v >= min || Date.now() > until) return v;
    await ctx.sleep(5);
  }
}

/** The same, as a readiness wait: a counter that never gets there is an error. */
export async function waitForCounter(ctx: LabRunContext, role: 'client' | 'server', key: string, min: number, timeoutMs: number): Promise<number> {
  const v = await pollCounter(ctx, role, key, min, timeoutMs);
  if (v < min) throw new Error(`${role}: ${key} stayed at ${v} (< ${min}) for ${timeoutMs} ms`);
  return v;
}

export interface StreamCheck {
  sent: number | null;
  sentHash: string | null;
  read: number | null;
  readHash: string | null;
  intact: boolean; // same count, same hash
}

/** What the sender wrote (its last 'sent') against what the reader read (its 'eof'). */
export function streamCheck(ctx: LabJudgeContext): StreamCheck {
  const sent = ctx.program('sender').messages.filter((m) => m.event === 'sent').pop();
  const end = ctx.program('reader').messages.find((m) => m.event === 'eof');
  const r: StreamCheck = {
    sent: sent ? Number(sent.total) : null,
    sentHash: sent ? String(sent.sha256) : null,
    read: end ? Number(end.total) : null,
    readHash: end ? String(end.sha256) : null,
    intact: false,
  };
  r.intact = r.sent !== null && r.sent === r.read && r.sentHash === r.readHash;
  return r;
}

/** "sha256 3f2a9c1e…" for evidence sentences. */
export function short(hash: string | null): string {
  return hash ? `${hash.slice(0, 12)}…` : '?';
}
