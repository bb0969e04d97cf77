/** `wirelab inspect FILE|- [--json] [--stream N] [--live]`: annotate any pcap or pcapng, no root needed. */
import type { Analysis } from '../analyze/model.js';
import { tcpConnections } from '../analyze/analyzer.js';
import { inspectStream } from '../analyze/pipeline.js';
import { openCaptureFile } from '../capture/read.js';
import { WirelabError } from '../errors.js';
import { inspectJsonBytes } from '../report/json.js';
import { intOption, parse } from './args.js';
import { note, out, outPieces } from './output.js';

const USAGE = 'wirelab inspect FILE|- [--json|--mermaid] [--stream N] [--live] [--html FILE]';

export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('inspect', argv, {
    json: { type: 'boolean' },
    stream: { type: 'string' },
    live: { type: 'boolean' },
    html: { type: 'string' },
    mermaid: { type: 'boolean' },
  }, USAGE);
  if (values.json && values.mermaid) throw new WirelabError('BAD_USAGE', `--json and --mermaid both print to stdout: give one (--html FILE goes with either)\nusage: ${USAGE}`);
  if (positionals.length !== 1) {
    throw new WirelabError('BAD_USAGE', `wirelab inspect takes one file (or - for standard input), got ${positionals.length}\nusage: ${USAGE}`);
  }
  const file = positionals[0]!;
  const stream = intOption(values.stream, '--stream', 0);
  const input = openCaptureFile(file);
  // --html alone prints nothing: it keeps segments in a second pass, for the connections it draws.
  const printsText = !values.json && !values.mermaid && values.html === undefined;
  const keepSegments = printsText || values.mermaid === true || values.live === true || (values.html !== undefined && file === '-');
  // The text report (and its ladder) is loaded only when it is printed.
  const text = values.json || (!printsText && !values.live) ? null : await import('../report/text.js');
  const analysis: Analysis = await inspectStream(input, {
    file: file === '-' ? '-' : file,
    keepSegments,
    ...(values.live && !values.json
      ? { onUpdate: (c, s) => { if (s && (stream === undefined || c.id === stream)) out(`#${c.id} ${text!.renderSegmentLine(s)}`); } }
      : {}),
  });
  const tcpCount = tcpConnections(analysis).count; // ids are 0 .. count-1 (as tcp.stream)
  const unreadable = analysis.packets === 0 && analysis.faults.some((f) => f.fatal);
  if (unreadable) {
    // Nothing could be read: no report on stdout, only what was wrong (exit 2).
    for (const f of analysis.faults) note(`wirelab inspect: ${file}: ${f.message}${/byte \d/.test(f.message) ? '' : ` (at byte ${f.offset})`}`);
    return 2;
  }
  // A link type the decoder does not read is said first, before any report. When it left nothing
  // to analyse (no connection, flow or ICMP message), there is no report: exit 2.
  const linkFaults = analysis.faults.filter((f) => f.code === 'UNKNOWN_LINK_TYPE');
  for (const f of linkFaults) note(`wirelab inspect: ${file}: ${f.message}`);
  if (linkFaults.length > 0 && tcpCount === 0 && analysis.udp.length === 0 && analysis.icmp.length === 0) {
    note(`wirelab inspect: ${file}: nothing could be analysed: none of its ${analysis.packets} packets could be decoded to TCP, UDP or ICMP. Capture on an interface whose link type wirelab reads (\`tcpdump -i any\` writes Linux cooked capture), or convert the file to one`);
    return 2;
  }
  if (stream !== undefined && stream >= tcpCount) {
    throw new WirelabError('BAD_USAGE', `--stream ${stream}: the capture has TCP streams 0 to ${tcpCount - 1}`);
  }
  if (values.html !== undefined) {
    const started = performance.now();
    const { writeInspectHtml } = await import('../report/html/build.js');
    const r = await writeInspectHtml(file, analysis, keepSegments, values.html);
    const left = r.total > r.drawn ? `, ${r.total - r.drawn} left out` : '';
    note(`wirelab inspect: wrote ${values.html}: ${(r.bytes / 1e6).toFixed(2)} MB in ${((performance.now() - started) / 1000).toFixed(2)} s; ${r.drawn} of ${r.total} TCP connections drawn${left}`);
  }
  if (values.json) {
    // Streamed: one connection at a time, never the whole report as one string.
    await outPieces(inspectJsonBytes(analysis, stream === undefined ? {} : { stream }));
  } else if (values.mermaid) {
    const { renderMermaidAll } = await import('../report/mermaid.js');
    const conns = stream === undefined ? analysis.tcp : analysis.tcp.filter((c) => c.id === stream);
    out(renderMermaidAll(conns, file, 20));
  } else if (printsText) {
    const style = (await import('../report/ladder.js')).ladderStyleFor(process.stdout, process.env);
    out(text!.renderText(analysis, stream === undefined ? { style } : { stream, style }));
  }
  // A damaged tail keeps what came before it: the fault is named, the exit is 0.
  for (const f of analysis.faults) if (f.code !== 'UNKNOWN_LINK_TYPE') note(`wirelab inspect: ${file}: ${f.message}${/byte \d/.test(f.message) ? '' : ` (at byte ${f.offset})`}`);
  return 0;
}
