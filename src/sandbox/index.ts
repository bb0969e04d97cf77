/** The sandbox's public surface. */
export type * from './types.js';
export { createSandbox } from './sandbox.js';
export { cleanupStale, listSandboxNamespaces, type SandboxNamespace } from './namespaces.js';
export { checkPrivileges, readPrivileges, requireTool, type PrivilegeReport } from './privileges.js';
export { which } from './command.js';
