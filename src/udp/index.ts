/** The UDP experiment's public surface: what a lab (labs/udp/*) and the CLI use. */
export type * from './result.js';
export { runUdp, runUdpInFreshSandbox, udpTopology, type UdpRunOptions } from './engine.js';
export {
  DEFAULT_PARAMS, MAX_UDP_PAYLOAD, validateParams, parseRate, parseSize, parseBytes, parsePercent, parseCount, parseRcvbuf,
  formatRate, formatBytes, type UdpParams, type UdpTopology, type UdpReader,
} from './params.js';
export { formatPercent } from './result.js';
export { renderUdpText } from './report-text.js';
