/** The observer's public surface. */
export type * from './types.js';
export { startObserver, type Observer } from './observer.js';
export { readSockets, parseProcNet, decodeEndpoint, CLOCK_TICK_MS } from './proc-net.js';
export { readCounters, counterDelta, parsePairedCounters, parseSnmp6 } from './counters.js';
export { socketStateAt, describeAt, sampleAt, canonicalEndpoint } from './join.js';
