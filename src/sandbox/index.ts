/** The sandbox's public surface. */
export type * from './types.js';
export { createSandbox, topologyRefusal } from './sandbox.js';
export { OWN_NETNS_NOTE, sandboxMode, type SandboxMode } from './container-mode.js';
export { OWN_NETNS_LABEL } from './own-netns.js';
export { cleanupStale, listSandboxNamespaces, type SandboxNamespace } from './namespaces.js';
export { checkPrivileges, readPrivileges, requireTool, type PrivilegeReport } from './privileges.js';
export { which } from './command.js';
