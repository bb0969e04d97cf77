/**
 * The claim catalogue: what the common textbook and interview explanations of TCP and UDP say,
 * one statement per ID, in wirelab's own words. Labs name these IDs; `wirelab claims` lists each
 * with the labs that test it and its last verdict. A lab naming an ID that is not here is a lab
 * author's mistake (the catalogue test and `wirelab list` catch it).
 */
export type ClaimTopic = 'opening' | 'closing' | 'loss' | 'udp';

export interface Claim {
  id: string;
  topic: ClaimTopic;
  text: string;
}

export const CLAIMS: readonly Claim[] = [
  // Opening a connection: the three-way handshake
  { id: 'H01', topic: 'opening', text: 'connect() makes the client send a SYN (SYN set, ACK clear) carrying a random initial sequence number x; the client is then SYN_SENT.' },
  { id: 'H02', topic: 'opening', text: 'The server answers with SYN+ACK: ack = x+1 and its own random sequence number y; the server side is then SYN_RCVD.' },
  { id: 'H03', topic: 'opening', text: 'The client sends ACK with seq = x+1, ack = y+1 and is ESTABLISHED; the server becomes ESTABLISHED when that ACK arrives.' },
  { id: 'H04', topic: 'opening', text: 'A SYN carries no data but uses up one sequence number.' },
  { id: 'H05', topic: 'opening', text: 'The third segment may carry data, and a pure ACK uses up no sequence number; the SYN and SYN-ACK carry none (TCP Fast Open is the modern exception).' },
  { id: 'H06', topic: 'opening', text: 'The handshake is where both sides announce their receive window and options such as the MSS.' },
  { id: 'H07', topic: 'opening', text: 'The initial sequence number is never fixed: each connection gets another one, and it grows with time (the classic story: a 32-bit counter ticking every 4 microseconds), so an attacker cannot guess it.' },
  { id: 'H08', topic: 'opening', text: 'Three segments and not two: an old duplicate SYN that arrives late draws an answer from the server, the client that never asked refuses it, and so no half-open connection wastes the server.' },
  { id: 'H09', topic: 'opening', text: 'A listening server keeps half-open (SYN_RCVD) connections in one queue and finished ones, waiting for accept(), in another; when a queue is full, packets are dropped.' },
  { id: 'H10', topic: 'opening', text: "If the client's ACK (the third segment) is lost, the server resends its SYN-ACK at growing intervals (1, 2, 4, 8 s ...) up to a limit and then drops the half-open entry, while the client already believes it is ESTABLISHED." },
  { id: 'H11', topic: 'opening', text: 'A flood of SYNs from forged addresses fills the half-open queue so that real clients are refused; many SYN_RECV sockets give it away; SYN cookies, a shorter SYN timeout and a larger backlog are the defences.' },
  // Closing a connection: the four-way close
  { id: 'C01', topic: 'closing', text: 'Either side may close first: close() sends a FIN with seq = u and that side enters FIN_WAIT_1.' },
  { id: 'C02', topic: 'closing', text: 'The other side acknowledges it (ack = u+1) and enters CLOSE_WAIT; on that ACK the first side enters FIN_WAIT_2. A FIN uses up one sequence number.' },
  { id: 'C03', topic: 'closing', text: 'Half-close: after the first FIN the other side may still send data, and it arrives.' },
  { id: 'C04', topic: 'closing', text: 'Later the other side sends its own FIN (seq = w, ack = u+1) and enters LAST_ACK.' },
  { id: 'C05', topic: 'closing', text: 'The first side acknowledges that FIN (ack = w+1), enters TIME_WAIT and is CLOSED after 2MSL; the other side is CLOSED when that ACK arrives.' },
  { id: 'C06', topic: 'closing', text: 'Only the side that closes first goes through TIME_WAIT.' },
  { id: 'C07', topic: 'closing', text: 'The second ACK and the second FIN usually travel apart because the other side may still have data; when it has none they can merge and the close takes three segments.' },
  { id: 'C08', topic: 'closing', text: 'TIME_WAIT lasts 2MSL; MSL is 2 minutes in RFC 793, and 30 s, 1 min or 2 min in practice.' },
  { id: 'C09', topic: 'closing', text: 'TIME_WAIT exists so the last ACK can be sent again: if it is lost the other side resends its FIN, and the TIME_WAIT side acknowledges it again and restarts its timer.' },
  { id: 'C10', topic: 'closing', text: 'TIME_WAIT also lets old duplicate segments die out; while it lasts, the same 4-tuple cannot open a new connection.' },
  { id: 'C11', topic: 'closing', text: 'When both sides close at once, both go through CLOSING and both end in TIME_WAIT.' },
  { id: 'C12', topic: 'closing', text: 'The six classic flags are SYN, ACK, PSH, FIN, RST and URG; RST resets a connection (a closed port, an aborted socket).' },
  // How TCP copes with loss
  { id: 'T01', topic: 'loss', text: 'The sender cuts the byte stream into segments and the receiver puts them back together.' },
  { id: 'T02', topic: 'loss', text: 'The receiver acknowledges data by sequence number.' },
  { id: 'T03', topic: 'loss', text: 'A segment not acknowledged in time is sent again.' },
  { id: 'T04', topic: 'loss', text: 'A sliding window keeps the sender within what the receiver can buffer: a slow reader drives the window to zero.' },
  { id: 'T05', topic: 'loss', text: 'Segments that arrive out of order are put back in order before the application reads them.' },
  { id: 'T06', topic: 'loss', text: 'Duplicate segments are thrown away.' },
  { id: 'T07', topic: 'loss', text: 'A segment with a bad checksum is dropped and not acknowledged, so it gets sent again.' },
  // How UDP loses datagrams
  { id: 'U01', topic: 'udp', text: 'A receiver that spends too long between two reads loses datagrams; reading quickly into a buffer (or on another thread) cures it.' },
  { id: 'U02', topic: 'udp', text: 'Very large datagrams (over about 50 KB) get lost; split them.' },
  { id: 'U03', topic: 'udp', text: "Datagrams several times the MTU can overflow the receiver's buffer; a bigger SO_RCVBUF (64 KB, in the story) cures it." },
  { id: 'U04', topic: 'udp', text: 'Sending too fast loses datagrams even below the MTU; a bigger receive buffer or pacing the sends cures it.' },
  { id: 'U05', topic: 'udp', text: 'A LAN loses nothing where the public internet loses datagrams; smaller datagrams and pacing help.' },
  { id: 'U06', topic: 'udp', text: "sendto never blocks: when the sender's buffer is full, datagrams are lost at the sender." },
  { id: 'U07', topic: 'udp', text: 'Keep datagrams within the MTU (1500 bytes on Ethernet, 1280 to be safe): a fragmented datagram is lost whole when any fragment is lost.' },
  { id: 'U08', topic: 'udp', text: 'A UDP datagram holds at most 64 KB.' },
];

export function claimById(id: string): Claim | undefined {
  return CLAIMS.find((c) => c.id === id);
}
