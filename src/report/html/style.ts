/**
 * The report's CSS (light and dark from the reader's setting, a print layout, a narrow layout for
 * phones) and its one small script: the hover / focus tooltip that shows a segment's full decode.
 */

export const CSS = `
:root{--bg:#fff;--fg:#1d232b;--muted:#5b6673;--line:#d5dbe2;--panel:#f5f7fa;--accent:#1f5fbf;
--ok:#1b7f3b;--okbg:#e3f4e8;--warn:#9a5b00;--warnbg:#fff1d6;--bad:#b3261e;--badbg:#fde5e3;--grey:#6b7280;--greybg:#eceff3;
--client:#1f5fbf;--server:#7a3fb8;--retx:#c2410c;--drop:#b3261e;--tw:#9a5b00;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e3e7ec;--muted:#9aa5b1;--line:#323a44;--panel:#1a1f25;--accent:#7fb0ff;
--ok:#6fd08c;--okbg:#15311f;--warn:#f0b450;--warnbg:#3a2a0c;--bad:#ff8a80;--badbg:#3d1614;--grey:#a3acb8;--greybg:#262c33;
--client:#7fb0ff;--server:#c79bff;--retx:#ff9a5c;--drop:#ff8a80;--tw:#f0b450}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1180px;margin:0 auto;padding:16px 20px 48px}
h1{font-size:1.6rem;margin:.2em 0}h2{font-size:1.25rem;margin:1.2em 0 .4em}h3{font-size:1.05rem;margin:1em 0 .4em}h4{margin:.9em 0 .3em;font-size:.95rem}
a{color:var(--accent)}code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
small,.note{color:var(--muted)}.note{font-size:.9rem}
.sub{color:var(--muted);margin:0 0 1em;overflow-wrap:anywhere}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.tile{flex:1 1 140px;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.tile b{display:block;font-size:1.8rem;line-height:1.1}.tile span{color:var(--muted);font-size:.9rem}
.tile.good b,.tile.v-confirmed b{color:var(--ok)}.tile.bad b,.tile.v-refuted b{color:var(--bad)}.tile.v-differs b{color:var(--warn)}.tile.v-untestable b{color:var(--grey)}
table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
table.kevents td:last-child{overflow-wrap:anywhere}table.kevents td.num,table.kevents td:nth-child(2){white-space:nowrap}
.badge,.chip{display:inline-block;border-radius:999px;padding:0 8px;font-size:.8rem;font-weight:600;white-space:nowrap;border:1px solid transparent}
.v-pass,.v-confirmed{background:var(--okbg);color:var(--ok)}.v-fail,.v-error,.v-refuted{background:var(--badbg);color:var(--bad)}
.v-differs{background:var(--warnbg);color:var(--warn)}.v-skipped,.v-untestable{background:var(--greybg);color:var(--grey)}
.claims-cell .chip{margin:1px 0}
section.lab,section.capture{border-top:2px solid var(--line);margin-top:28px;padding-top:4px}
.lab-head h2 small{font-weight:400}.lab-title{font-size:1.05rem;margin:.2em 0}.reason{color:var(--bad)}
ul.claims{list-style:none;padding:0;margin:8px 0}
li.claim{background:var(--panel);border:1px solid var(--line);border-left:4px solid var(--grey);border-radius:6px;padding:8px 12px;margin:8px 0}
li.claim.v-confirmed{border-left-color:var(--ok)}li.claim.v-refuted{border-left-color:var(--bad)}li.claim.v-differs{border-left-color:var(--warn)}
li.claim .badge{background:none;border-color:currentColor}
.claim-text{color:var(--muted)}.evidence{margin:.3em 0 0;overflow-wrap:anywhere}
dl.differs{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:.5em 0 0}dl.differs dt{color:var(--muted)}dl.differs dd{margin:0}
.story{font-style:italic;border-left:3px solid var(--accent);padding-left:10px}
details{margin:8px 0}summary{cursor:pointer;color:var(--accent)}
.explanation p{max-width:75ch}
.conn-head{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:baseline}
.conn-head h3{margin:.6em 0 .2em}.facts{margin:0;color:var(--muted);font-size:.92rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
.diagram{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid var(--line);border-radius:8px;background:var(--panel);margin:6px 0}
svg.ladder,svg.states{display:block;width:100%;height:auto;min-width:580px;max-width:1000px}
svg.ladder.narrow{display:none;min-width:0}svg.narrow text{font-size:10px}svg.narrow .tm,svg.narrow .brk{font-size:9px}svg.narrow .ep{font-size:12px}
svg text{fill:var(--fg);font:11px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
svg .ep{font:600 13px system-ui,sans-serif}svg .addr,svg .tm,svg .brk{fill:var(--muted)}
svg .axis{stroke:var(--muted);stroke-width:2}
svg .seg line{stroke:var(--fg);stroke-width:1.4}svg .seg .head{fill:var(--fg)}
svg .seg[data-from=client] line{stroke:var(--client)}svg .seg[data-from=client] .head{fill:var(--client)}
svg .seg[data-from=server] line{stroke:var(--server)}svg .seg[data-from=server] .head{fill:var(--server)}
svg .seg .lbl{paint-order:stroke;stroke:var(--panel);stroke-width:4px;stroke-linejoin:round}
svg .seg.retx line{stroke:var(--retx);stroke-dasharray:6 3}svg .seg.retx .head{fill:var(--retx)}svg .seg.retx .lbl{fill:var(--retx)}
svg .seg.dropped line{stroke:var(--drop);stroke-dasharray:2 3}svg .seg .cross{stroke:var(--drop);stroke-width:2.4;fill:none}svg .seg.dropped .lbl{fill:var(--drop)}
svg .seg:hover line,svg .seg:focus line{stroke-width:3}svg .seg:focus{outline:none}
svg .st{font-weight:700;fill:var(--fg)}
svg .brkline{stroke:var(--muted);fill:none}
svg .tw rect{fill:var(--tw);opacity:.85}svg .twl{fill:var(--tw);font-weight:700}svg .twm{fill:var(--muted);font-size:10px}
svg .note{fill:var(--muted)}
svg .kev path,svg .kev circle{fill:var(--bg);stroke:var(--warn);stroke-width:1.6}
svg .tick{stroke:var(--line)}svg .lane{fill:var(--muted);font-size:10px}svg .conn{font-weight:700}
svg .bar rect{fill:var(--greybg);stroke:var(--line)}svg .bar text{font-size:10px}
svg .st-ESTABLISHED rect{fill:var(--okbg);stroke:var(--ok)}svg .st-TIME_WAIT rect{fill:var(--warnbg);stroke:var(--tw)}
svg .st-SYN_SENT rect,svg .st-SYN_RCVD rect,svg .st-LISTEN rect{fill:#dbe8ff;stroke:var(--client)}
svg .st-FIN_WAIT_1 rect,svg .st-FIN_WAIT_2 rect,svg .st-CLOSE_WAIT rect,svg .st-LAST_ACK rect,svg .st-CLOSING rect{fill:#efe2ff;stroke:var(--server)}
@media (prefers-color-scheme:dark){svg .st-SYN_SENT rect,svg .st-SYN_RCVD rect,svg .st-LISTEN rect{fill:#1c2b45}
svg .st-FIN_WAIT_1 rect,svg .st-FIN_WAIT_2 rect,svg .st-CLOSE_WAIT rect,svg .st-LAST_ACK rect,svg .st-CLOSING rect{fill:#2d2140}}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:.85rem;color:var(--muted);margin:4px 0}
.legend i{display:inline-block;width:22px;height:0;border-top:2px solid;vertical-align:middle;margin-right:4px}
.lg-c{border-color:var(--client)!important}.lg-s{border-color:var(--server)!important}.lg-r{border-color:var(--retx)!important;border-top-style:dashed!important}.lg-d{border-color:var(--drop)!important;border-top-style:dotted!important}
.lg-t{border-top:6px solid var(--tw)!important}
#tip{position:fixed;z-index:10;max-width:min(640px,94vw);background:var(--fg);color:var(--bg);padding:6px 9px;border-radius:6px;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;pointer-events:none;white-space:pre-wrap;overflow-wrap:anywhere;display:none;box-shadow:0 2px 10px #0004}
.stack{display:flex;height:22px;border-radius:4px;overflow:hidden;margin:6px 0;font-size:.8rem}.stack span{padding:0 4px;color:#fff;background:var(--grey);white-space:nowrap;overflow:hidden}
.c-receive-buffer{background:var(--bad)!important}.c-injected-loss{background:var(--warn)!important}.c-reassembly{background:var(--server)!important}.c-before-receiver{background:var(--client)!important}
dl.nums{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:6px;margin:6px 0}dl.nums dt{color:var(--muted);font-size:.85rem}dl.nums dd{margin:0 0 4px;font-weight:600}
.bad{color:var(--bad)}figure{margin:10px 0}figure img{max-width:100%;background:#fff;border-radius:6px}
div.counters{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:0 18px;font-size:.88rem}
div.counters span{display:flex;justify-content:space-between;border-bottom:1px solid var(--line);padding:2px 0}div.counters b{font-variant-numeric:tabular-nums}
footer{margin-top:32px;color:var(--muted);font-size:.85rem}
@media (max-width:640px){main{padding:10px 10px 32px}body{font-size:14px}h1{font-size:1.3rem}
.tile{flex-basis:45%;padding:8px 10px}.tile b{font-size:1.4rem}
table.labs td:nth-child(3),table.labs th:nth-child(3){display:none}.conn-table .wide{display:none}
svg.ladder.wide{display:none}svg.ladder.narrow{display:block}svg.states{min-width:520px}
td,th,p,li,summary,code,h2,h3{overflow-wrap:anywhere}}
@media print{:root{--bg:#fff;--fg:#000;--panel:#fff;--muted:#444;--line:#bbb;--accent:#1f5fbf;--ok:#1b7f3b;--okbg:#e3f4e8;--warn:#9a5b00;--warnbg:#fff1d6;
--bad:#b3261e;--badbg:#fde5e3;--grey:#6b7280;--greybg:#eceff3;--client:#1f5fbf;--server:#7a3fb8;--retx:#c2410c;--drop:#b3261e;--tw:#9a5b00;color-scheme:light}body{font-size:11pt}main{max-width:none;padding:0}
a{color:#000;text-decoration:none}details{display:block}details>summary{list-style:none;color:#000;font-weight:600}details:not([open])>*:not(summary){display:block}
.diagram{overflow:visible;border:none}svg.ladder,svg.states{min-width:0;max-width:100%}section.lab,.conn{break-inside:avoid-page}#tip{display:none!important}
svg .seg .lbl{stroke:#fff}
svg .st-SYN_SENT rect,svg .st-SYN_RCVD rect,svg .st-LISTEN rect{fill:#dbe8ff}svg .st-FIN_WAIT_1 rect,svg .st-FIN_WAIT_2 rect,svg .st-CLOSE_WAIT rect,svg .st-LAST_ACK rect,svg .st-CLOSING rect{fill:#efe2ff}}
`;

/** Tooltips: an arrow's <title> (the full decode) moves to a styled box on hover, focus or tap. */
export const SCRIPT = `
(function(){var tip=document.getElementById('tip');if(!tip)return;
document.querySelectorAll('svg .seg, svg .kev').forEach(function(g){var t=g.querySelector('title');if(!t)return;g.setAttribute('data-tip',t.textContent);g.setAttribute('aria-label',t.textContent);t.remove();});
function show(g,x,y){tip.textContent=g.getAttribute('data-tip');tip.style.display='block';var w=tip.offsetWidth,h=tip.offsetHeight;
tip.style.left=Math.max(4,Math.min(x+12,innerWidth-w-4))+'px';tip.style.top=(y+16+h>innerHeight?y-h-10:y+16)+'px';}
function hide(){tip.style.display='none';}
document.addEventListener('mouseover',function(e){var g=e.target.closest&&e.target.closest('.seg,.kev');if(g)show(g,e.clientX,e.clientY);});
document.addEventListener('mousemove',function(e){var g=e.target.closest&&e.target.closest('.seg,.kev');if(g)show(g,e.clientX,e.clientY);else hide();});
document.addEventListener('focusin',function(e){var g=e.target.closest&&e.target.closest('.seg,.kev');if(!g)return hide();var r=g.getBoundingClientRect();show(g,r.left+r.width/2,r.top+r.height/2);});
document.addEventListener('focusout',hide);
})();
`;
