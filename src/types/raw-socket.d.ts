// Minimal types for raw-socket 1.8.1 (it ships none): what the raw-socket capture backend uses.
declare module 'raw-socket' {
  import type { EventEmitter } from 'node:events';

  export const AddressFamily: { IPv4: number; IPv6: number };
  export const Protocol: { None: number; ICMP: number; TCP: number; UDP: number; ICMPv6: number };
  export const SocketLevel: Record<string, number>;
  export const SocketOption: Record<string, number>;

  export interface SocketOptions {
    protocol?: number;
    addressFamily?: number;
    /** Receive buffer size: the default 4096 silently truncates larger packets. */
    bufferSize?: number;
  }

  export interface Socket extends EventEmitter {
    /** `buffer` is a view of the socket's own receive buffer: copy it before the next message. */
    on(event: 'message', listener: (buffer: Buffer, source: string) => void): this;
    on(event: 'error', listener: (e: Error) => void): this;
    on(event: 'close', listener: () => void): this;
    close(): this;
    pauseRecv(): this;
    resumeRecv(): this;
    send(buffer: Buffer, offset: number, length: number, address: string, cb: (error: Error | null, bytes: number) => void): this;
    send(buffer: Buffer, offset: number, length: number, address: string, beforeCb: () => void, afterCb: (error: Error | null, bytes: number) => void): this;
    setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  }

  export function createSocket(options?: SocketOptions): Socket;

  const raw: {
    AddressFamily: typeof AddressFamily;
    Protocol: typeof Protocol;
    SocketLevel: typeof SocketLevel;
    SocketOption: typeof SocketOption;
    createSocket: typeof createSocket;
  };
  export default raw;
}
