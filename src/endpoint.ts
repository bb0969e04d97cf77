/**
 * Endpoints as text, in one place: "10.0.0.1:80", and IPv6 in brackets, "[fd00::1]:80" (RFC 3986),
 * as the analysis, the observer (/proc/net/tcp) and the labs all print and compare them.
 */

/** "addr:port", with an IPv6 address (any address holding a colon) in brackets. */
export function endpointText(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** The address of an endpoint text without its port and brackets ("[fd00::1]:80" -> "fd00::1"). */
export function endpointAddress(ep: string): string {
  if (ep.startsWith('[')) return ep.slice(1, ep.lastIndexOf(']'));
  return ep.slice(0, ep.lastIndexOf(':'));
}

/** The port of an endpoint text. */
export function endpointPort(ep: string): number {
  return Number(ep.slice(ep.lastIndexOf(':') + 1));
}
