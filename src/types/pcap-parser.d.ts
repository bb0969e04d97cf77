// Minimal types for pcap-parser 0.2.1 (it ships none): only what src/capture/pcap-classic.ts uses.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';

  export interface PcapGlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }

  export interface PcapPacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }

  export interface PcapPacket {
    header: PcapPacketHeader;
    data: Buffer; // a view of exactly capturedLength bytes
  }

  export interface PcapParser extends EventEmitter {
    on(event: 'globalHeader', listener: (h: PcapGlobalHeader) => void): this;
    on(event: 'packet', listener: (p: PcapPacket) => void): this;
    on(event: 'error', listener: (e: Error) => void): this;
    on(event: 'end', listener: () => void): this;
  }

  /** Starts reading on the next tick: attach listeners synchronously. */
  export function parse(input: string | NodeJS.ReadableStream): PcapParser;

  const _default: { parse: typeof parse };
  export default _default;
}
