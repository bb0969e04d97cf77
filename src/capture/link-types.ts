/**
 * Names of pcap / pcapng link types (the LINKTYPE_ values of the tcpdump.org registry), for
 * messages and the text report. The decoder switches on the number; these are only words.
 */
const NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL'], // BSD loopback, host-endian AF_ value
  [1, 'EN10MB'], // Ethernet (tcpdump on Linux `lo` too, with all-zero MACs)
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
  [239, 'NFLOG'],
  [249, 'USBPCAP'],
  [252, 'WIRESHARK_UPPER_PDU'],
  [263, 'IPOIB'],
  [276, 'LINUX_SLL2'], // tcpdump -i any on libpcap >= 1.10
]);

/** Link types whose frames wirelab's decoder understands (it decides; this is for messages). */
export const DECODABLE_LINK_TYPES: readonly number[] = [0, 1, 101, 108, 113, 228, 229, 276];

/** "EN10MB" for 1, "LINKTYPE_999" for a number not in the table. */
export function linkTypeName(linkType: number): string {
  return NAMES.get(linkType) ?? `LINKTYPE_${linkType}`;
}

/** "1 (EN10MB)": the form used in messages and the text report. */
export function describeLinkType(linkType: number): string {
  return `${linkType} (${linkTypeName(linkType)})`;
}
