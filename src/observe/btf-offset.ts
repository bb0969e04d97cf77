/**
 * A struct member's byte offset from the kernel's BTF (/sys/kernel/btf/vmlinux), for the one place
 * bpftrace 0.17 cannot take an address (no `&`, no offsetof): the skb's control block `cb`, where
 * TCP keeps a retransmitted segment's sequence number. Walks the type section once per lookup.
 */
import { readFileSync } from 'node:fs';

// BTF kinds and the bytes that follow a btf_type (12 bytes) for each (include/uapi/linux/btf.h)
const STRUCT = 4;
const UNION = 5;
function extra(kind: number, vlen: number): number {
  switch (kind) {
    case 1: return 4; // INT
    case 3: return 12; // ARRAY
    case STRUCT: case UNION: return vlen * 12; // members
    case 6: return vlen * 8; // ENUM
    case 13: return vlen * 8; // FUNC_PROTO
    case 14: return 4; // VAR
    case 15: return vlen * 12; // DATASEC
    case 17: return 4; // DECL_TAG
    case 19: return vlen * 12; // ENUM64
    default: return 0; // PTR FWD TYPEDEF VOLATILE CONST RESTRICT FUNC FLOAT TYPE_TAG
  }
}

/** Byte offset of `member` in `struct name`, or null (no BTF, no such struct or member, a bitfield). */
export function memberOffset(structName: string, member: string, file = '/sys/kernel/btf/vmlinux'): number | null {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return null;
  }
  if (b.length < 24 || b.readUInt16LE(0) !== 0xeb9f) return null;
  const hdrLen = b.readUInt32LE(4);
  const typeOff = hdrLen + b.readUInt32LE(8);
  const typeEnd = typeOff + b.readUInt32LE(12);
  const strOff = hdrLen + b.readUInt32LE(16);
  const name = (off: number): string => {
    const start = strOff + off;
    return b.toString('latin1', start, b.indexOf(0, start));
  };
  for (let at = typeOff; at + 12 <= typeEnd; ) {
    const info = b.readUInt32LE(at + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (kind === STRUCT && name(b.readUInt32LE(at)) === structName) {
      const kflag = info >>> 31 === 1;
      for (let i = 0; i < vlen; i++) {
        const m = at + 12 + i * 12;
        if (name(b.readUInt32LE(m)) !== member) continue;
        const raw = b.readUInt32LE(m + 8);
        const bits = kflag ? raw & 0xffffff : raw;
        return bits % 8 === 0 ? bits / 8 : null;
      }
    }
    at += 12 + extra(kind, vlen);
  }
  return null;
}
