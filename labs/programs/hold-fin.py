"""Holds back a FIN and sends it later, unchanged: a segment delayed in the network. It watches an
interface (AF_PACKET, inside the host's namespace) for the first outgoing TCP segment with FIN from
sport to dport, keeps a copy of the frame, and on {"do": "release"} sends that frame out of the same
interface again, one hop less (TTL / hop limit 63, so a fault matching ttl 64 drops the original
and its retransmissions but not this copy; TCP checksum recomputed: an outgoing copy carries only
the partial sum the NIC would finish). Used with a fault that drops the original at the receiver, the copy arrives as if the
first FIN had been delayed. The lab-program protocol: one JSON argument {"iface", "sport", "dport"};
events "ready", "held" {seq, ack}, "released"; stdin closing ends the program."""
import json
import socket
import struct
import sys

from protocol import args, emit

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_offset(frame):
    """(ip header offset, tcp offset, pseudo-header) of a frame carrying TCP, or None."""
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == 0x0800 and frame[23] == 6:
        ihl = (frame[14] & 0x0F) * 4
        total = struct.unpack("!H", frame[16:18])[0]
        tcp_len = total - ihl
        pseudo = frame[26:34] + struct.pack("!BBH", 0, 6, tcp_len)
        return 14 + ihl, tcp_len, pseudo
    if ethertype == 0x86DD and frame[20] == 6:
        tcp_len = struct.unpack("!H", frame[18:20])[0]
        pseudo = frame[22:54] + struct.pack("!IxxxB", tcp_len, 6)
        return 54, tcp_len, pseudo
    return None


a = args()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind((a["iface"], 0))
emit("ready")
held = None
while held is None:
    frame, addr = s.recvfrom(65535)
    if addr[2] != PACKET_OUTGOING or len(frame) < 54:
        continue
    t = tcp_offset(frame)
    if t is None:
        continue
    off, tcp_len, pseudo = t
    sport, dport, seq, ack = struct.unpack("!HHII", frame[off:off + 12])
    if sport == a["sport"] and dport == a["dport"] and frame[off + 13] & 0x01:
        seg = bytearray(frame[off:off + tcp_len])
        seg[16:18] = b"\0\0"
        seg[16:18] = struct.pack("!H", checksum(bytes(pseudo) + bytes(seg)))
        ip = bytearray(frame[14:off])
        # one hop less, as if it had crossed a router: a fault matching ttl 64 lets the copy pass
        if ip[0] >> 4 == 4:
            ip[8] -= 1
            ip[10:12] = b"\0\0"
            ip[10:12] = struct.pack("!H", checksum(bytes(ip)))
        else:
            ip[7] -= 1
        held = frame[:14] + bytes(ip) + bytes(seg)
        emit("held", seq=seq, ack=ack)
s.close()
out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
out.bind((a["iface"], 0))
for line in sys.stdin:
    if not line.strip():
        continue
    cmd = json.loads(line)
    if cmd.get("do") == "release":
        out.send(held)
        emit("released")
    elif cmd.get("do") == "exit":
        break
