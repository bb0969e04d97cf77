import { pino, type Logger } from 'pino';

/**
 * Logs are JSON lines on stderr (or in the file named by WIRELAB_LOG_FILE); stdout belongs to
 * the CLI's output alone. WIRELAB_LOG_LEVEL sets the level (default "warn" so a user's terminal
 * shows only what matters; "debug" shows every spawned command). Pipe stderr through
 * `npx pino-pretty` for people.
 */
function make(): Logger {
  const level = process.env.WIRELAB_LOG_LEVEL ?? 'warn';
  const file = process.env.WIRELAB_LOG_FILE;
  const dest = file ? pino.destination({ dest: file, sync: true, mkdir: true }) : pino.destination({ fd: 2, sync: true });
  return pino({ level, base: { pid: process.pid } }, dest);
}

export const log: Logger = make();

export function child(component: string): Logger {
  return log.child({ component });
}
