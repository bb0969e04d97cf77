/**
 * Names of pcap / pcapng link types (the LINKTYPE_ values of the tcpdump.org registry), for
 * messages and the text report. The decoder switches on the number; these are only words.
 */
const NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL'], // BSD loopback, host-endian AF_ value
  [1, 'EN10MB'], // Ethernet (tcpdump on Linux `lo` too, with all-zero MACs)
  [9, 'PPP'],
  [10, 'FDDI'],
  [12, 'RAW'], // DLT_RAW's number on most BSDs
  [14, 'RAW'], // ... and on OpenBSD
  [50, 'PPP_HDLC'],
  [51, 'PPP_ETHER'], // PPPoE
  [101, 'RAW'], // raw IPv4 or IPv6, version from the first nibble
  [104, 'C_HDLC'],
  [105, 'IEEE802_11'],
  [108, 'LOOP'], // OpenBSD loopback, network-order AF_ value
  [113, 'LINUX_SLL'], // tcpdump -i any (older libpcap, or -y LINUX_SLL)
  [127, 'IEEE802_11_RADIOTAP'],
  [147, 'USER0'],
  [192, 'PPI'],
  [220, 'USB_LINUX_MMAPPED'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [239, 'NFLOG'], // tcpdump -i nflog:N
  [242, 'IPOIB'], // IP over InfiniBand
  [249, 'USBPCAP'],
  [252, 'WIRESHARK_UPPER_PDU'],
  [276, 'LINUX_SLL2'], // tcpdump -i any on libpcap >= 1.10
]);

/** Link types whose frames wirelab's decoder understands (src/decode/link.ts decides; a test keeps the two lists equal). */
export const DECODABLE_LINK_TYPES: readonly number[] = [0, 1, 9, 10, 12, 14, 50, 51, 101, 104, 108, 113, 228, 229, 239, 242, 276];

/** "EN10MB" for 1, "LINKTYPE_999" for a number not in the table. */
export function linkTypeName(linkType: number): string {
  return NAMES.get(linkType) ?? `LINKTYPE_${linkType}`;
}

/** "1 (EN10MB)": the form used in messages and the text report. */
export function describeLinkType(linkType: number): string {
  return `${linkType} (${linkTypeName(linkType)})`;
}
