/** The observer's public surface. */
export type * from './types.js';
export type * from './kernel-types.js';
export { summarizeKernelEvents } from './kernel-types.js';
export { startObserver, type Observer } from './observer.js';
export { readSockets, parseProcNet, decodeEndpoint, CLOCK_TICK_MS } from './proc-net.js';
export { readCounters, counterDelta, parsePairedCounters, parseSnmp6 } from './counters.js';
export { socketStateAt, describeAt, sampleAt, canonicalEndpoint } from './join.js';
export { startKernelEvents, type KernelEventSource } from './kernel-events.js';
export { startKernelEventHub, type KernelEventHub } from './kernel-hub.js';
export { kernelEventsSupport, type KernelEventsSupport } from './tracefs.js';
export { completeTuples, datagramNumber, datagramNumbers, describeKernelEvent, drops, dropsByReason, dropTotal, sideOf, stateChanges, statePath } from './kernel-join.js';
export { kernelStateName, rfcStateName, kernelStateNumber } from './kernel-tcp-states.js';
