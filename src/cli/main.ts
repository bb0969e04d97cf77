#!/usr/bin/env node
/** wirelab: the command line. The only code that writes to stdout (through ./output.ts). */
import { isWirelabError } from '../errors.js';
import { note, flushStdout } from './output.js';

const HELP = `wirelab: see TCP and UDP behave on a real kernel

  wirelab doctor [--clean] [--json]     what this machine can run; --clean removes stale lab namespaces
  wirelab list [--json]                 the labs, the claims they test, their params
  wirelab claims [--json] [--captures DIR]
                                        every claim, the labs that test it, its last verdict and evidence
  wirelab run LAB… | --all [--json] [--live] [--timeline] [--ipv4|--ipv6] [--param k=v] [--jobs N]
                    [--out DIR] [--backend tcpdump|raw-socket] [--html FILE] [--mermaid]
                                        run labs in fresh network namespaces (--all: IPv4 and IPv6); captures/<run>/
                                        with report.json and report.html
  wirelab inspect FILE|- [--json|--mermaid] [--stream N] [--live] [--html FILE]
                                        annotate any pcap or pcapng (no root needed); --html writes the
                                        report with ladder diagrams, --mermaid prints sequence diagrams
  wirelab report DIR [--out FILE]       (re)build the HTML report of a run from its report.json and pcaps
  wirelab capture [--topology loopback|veth] [--mtu N] [--ipv6] [--json] [--live] [--server CMD] -- COMMAND…
                                        run your own program in a lab namespace, capture and annotate it
  wirelab peer server [--port N] [--out DIR] | peer client HOST [--port N] [--bytes N] [--out DIR] [--json]
                                        two containers (compose.yaml): one connection, each side captured
  wirelab merge CLIENT.pcap SERVER.pcap [--json]
                                        one connection seen from both ends, with one-way delays
  wirelab udp [--rate N|max] [--size BYTES] [--count N] [--rcvbuf BYTES] [--work-us US] [--reader inline|queue]
              [--loss P%] [--mtu N] [--topology loopback|veth|router] [--pace] [--ipv6] [--json] [--out DIR]
                                        one UDP loss experiment with your numbers: loss, jitter, reordering as
                                        iperf3 reports them, and where each lost datagram died
  wirelab sweep udp --rcvbuf 8k,64k,1m --rate 10k,100k,max --size 100,1472,4000 --loss 0,1% [--count N]
                    [--jobs N] [--ipv6] [--json] [--out DIR]
                                        the same over a grid: progress bar, CSV, JSON and an SVG plot

exit codes: 0 good, 1 a lab's expectation failed, 2 bad usage or input, 3 this machine can't run it`;

/** The help's lines for one command (its usage and what it does), then the exit codes. */
function commandHelp(name: string): string {
  const lines = HELP.split('\n');
  const out: string[] = [];
  let inside = false;
  for (const l of lines) {
    if (/^  wirelab /.test(l)) inside = l.startsWith(`  wirelab ${name} `) || l === `  wirelab ${name}`;
    else if (!l.startsWith('   ')) inside = false;
    if (inside) out.push(l);
  }
  return [...out, '', lines[lines.length - 1]!].join('\n');
}

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  inspect: async () => (await import('./cmd-inspect.js')).inspectCommand,
  list: async () => (await import('./cmd-list.js')).listCommand,
  claims: async () => (await import('./cmd-claims.js')).claimsCommand,
  run: async () => (await import('./cmd-run.js')).runCommand,
  doctor: async () => (await import('./cmd-doctor.js')).doctorCommand,
  capture: async () => (await import('./cmd-capture.js')).captureCommand,
  peer: async () => (await import('./cmd-peer.js')).peerCommand,
  merge: async () => (await import('./cmd-merge.js')).mergeCommand,
  report: async () => (await import('./cmd-report.js')).reportCommand,
  udp: async () => (await import('./cmd-udp.js')).udpCommand,
  sweep: async () => (await import('./cmd-sweep.js')).sweepCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${HELP}\n`);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    note(`wirelab: unknown command "${name}"; the commands are ${Object.keys(commands).join(', ')} (wirelab --help)`);
    return 2;
  }
  // `wirelab run --help`: that command's lines of the help (only before `--`: capture runs what follows)
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(`${commandHelp(name)}\n`);
    return 0;
  }
  // Lab failures point at the lab's own TypeScript line: map stack traces for the commands that run
  // labs. Enabled before their modules load (it costs ~80 ms at startup, so inspect goes without).
  if (name === 'run' || name === 'capture' || name === 'peer') process.setSourceMapsEnabled(true);
  return (await load())(rest);
}

main(process.argv.slice(2))
  .then(async (code) => {
    await flushStdout();
    process.exit(code);
  })
  .catch(async (e: unknown) => {
    if (isWirelabError(e)) {
      note(`wirelab: ${e.message}`);
      process.exitCode = e.exitCode;
    } else {
      const { log } = await import('../log.js');
      log.debug({ err: e }, 'internal error');
      note(`wirelab: internal error: ${(e as Error)?.message ?? String(e)} (run with WIRELAB_LOG_LEVEL=debug for details)`);
      process.exitCode = 1;
    }
    await flushStdout();
    process.exit(process.exitCode);
  });
