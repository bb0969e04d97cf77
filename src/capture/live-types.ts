/** The live capture contract shared by the tcpdump and raw-socket backends. */
import type { Readable } from 'node:stream';
import type { HostRole, Sandbox } from '../sandbox/types.js';

export type CaptureBackend = 'tcpdump' | 'raw-socket';

export interface CaptureOptions {
  sandbox: Sandbox;
  role: HostRole; // which host's namespace to capture in
  iface?: string; // default: the host's capture interface ('lo' on loopback)
  file: string; // where the pcap is saved (classic microsecond pcap)
  backend?: CaptureBackend | 'auto'; // auto: tcpdump when installed, else raw-socket with a warning
  snaplen?: number; // default 2048 (lengths are taken from the IP header)
  bufferKiB?: number; // tcpdump -B, default 65536
  filter?: string; // optional BPF filter
}

export interface CaptureStats {
  backend: CaptureBackend;
  captured: number; // packets written
  receivedByFilter: number | null;
  droppedByKernel: number | null;
  complete: boolean; // false when the kernel dropped packets (the report says the capture is incomplete)
  limits: string[]; // what this backend cannot see (raw-socket: "no IP fragments", "inbound only")
}

export interface LiveCapture {
  readonly backend: CaptureBackend;
  readonly file: string;
  readonly limits: string[];
  /** The same pcap bytes that go to `file`, as they arrive (feed it to the inspect pipeline for --live). */
  readonly stream: Readable;
  /** Stop (SIGINT), wait for the file to be flushed and closed, return the backend's own counts. */
  stop(): Promise<CaptureStats>;
}
