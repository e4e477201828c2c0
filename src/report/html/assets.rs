//! The report's inline stylesheet and script. The script only adds hover tooltips; it also marks
//! the document with `data-report-ready="1"` when it ran to the end and records any JavaScript
//! error into `#js-errors` (so headless-browser tests can detect errors from the DOM).

/// Inline CSS.
pub(crate) const CSS: &str = r#"
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:16px 24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f4f4f4;padding:1px 4px;border-radius:3px;word-break:break-all}
.verdict{padding:12px 16px;border-radius:6px;font-size:16px;display:flex;gap:12px;align-items:baseline;flex-wrap:wrap}
.verdict-word{font-weight:700;font-size:22px;letter-spacing:.05em}.verdict-meta{color:#555;font-size:13px;margin-left:auto}
.verdict.valid{background:#e3f6e3;border:1px solid #6c6}.verdict.invalid{background:#ffe3ef;border:1px solid #FF1E90}.verdict.unknown{background:#fff3d6;border:1px solid #FFAA26}
.cols{display:flex;gap:32px;flex-wrap:wrap;align-items:flex-start}
table{border-collapse:collapse;margin:6px 0 10px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}thead th{background:#f4f4f4}
table.kv th{background:#fafafa;font-weight:600;white-space:nowrap}.counts td,.latency td{text-align:right}.counts td:first-child,.latency td:first-child{text-align:left}.coverage-roles td:nth-child(2),.coverage-windows td:nth-child(2),.coverage-windows td:nth-child(3),.coverage-windows td:nth-child(4){text-align:left}
tr.invalid td.v{color:#c0006a;font-weight:700}tr.unknown td.v{color:#b36b00;font-weight:700}tr.valid td.v{color:#280}
.warn{color:#c0006a;font-weight:600}.note{color:#666;font-size:12px}
svg.plot{max-width:100%;height:auto;display:block;margin:4px 0 8px}
svg text{font:11px system-ui,sans-serif;fill:#333}svg .axis-label{font-size:12px;fill:#555}svg .row-label{font-size:11px}svg text.note{fill:#666}
svg .bar-label{font:10.5px ui-monospace,Menlo,monospace;fill:#123;pointer-events:none}
.grid{stroke:#e6e6e6;stroke-width:1}.band{fill-opacity:.16}.band-lane{fill-opacity:.8}
.ok{fill:#6DB6FE}.info{fill:#FFAA26}.fail{fill:#FEB5DA}
rect.op{stroke:#00000033;stroke-width:.5}rect.op:hover{stroke:#000;stroke-width:1.5}
rect.failing{stroke:#FF1E90;stroke-width:2.5}
.ok-sym{fill:#333}.info-sym{fill:#333}.fail-sym{fill:#333}
.path-line{stroke:#333;stroke-width:1.3;stroke-opacity:.75}
.tick line{stroke-width:2.5}.tick.legal line{stroke:#000}.tick.legal circle{fill:#000}
.tick.illegal line{stroke:#FF1E90}.tick.illegal circle{fill:#FF1E90}.tick:hover circle{r:5}
svg .state-label{font:10.5px ui-monospace,Menlo,monospace;fill:#000}
svg .illegal-label{fill:#c0006a;font-weight:700;font-size:11.5px}
ol.path{margin:0;padding-left:20px}li.step.illegal{color:#c0006a;font-weight:600}li.step.illegal code{background:#ffe3ef}
td.failing-op code{background:#ffe3ef}
#tip{position:absolute;z-index:10;max-width:520px;background:#222;color:#fff;font:12px ui-monospace,Menlo,monospace;padding:5px 8px;border-radius:4px;pointer-events:none;white-space:pre-wrap;word-break:break-all}
#js-errors{color:#c0006a}
footer{margin-top:32px;color:#888;font-size:12px}
"#;

/// Runs first: records errors into the DOM.
pub(crate) const ERROR_HOOK: &str = r#"window.onerror=function(m,s,l,c){var p=document.getElementById('js-errors');document.documentElement.setAttribute('data-js-errors','1');if(p){p.hidden=false;p.textContent+=String(m)+' (line '+l+':'+c+')\n';}};"#;

/// Runs at the end of the body: hover tooltips from SVG `<title>`s, then the ready marker.
pub(crate) const SCRIPT: &str = r#"(function(){
var tip=document.getElementById('tip');
var ts=document.querySelectorAll('svg title');
for(var i=0;i<ts.length;i++){var t=ts[i],p=t.parentNode;p.setAttribute('data-tip',t.textContent);p.removeChild(t);}
document.addEventListener('mouseover',function(e){var el=e.target&&e.target.closest?e.target.closest('[data-tip]'):null;if(!el){tip.hidden=true;return;}tip.textContent=el.getAttribute('data-tip');tip.hidden=false;});
document.addEventListener('mousemove',function(e){if(!tip.hidden){tip.style.left=(e.pageX+14)+'px';tip.style.top=(e.pageY+14)+'px';}});
var de=document.documentElement;de.setAttribute('data-ready-ms',String(Math.round(window.performance?performance.now():0)));de.setAttribute('data-report-ready','1');
})();"#;
