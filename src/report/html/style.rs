//! The page's style: inline (the Content-Security-Policy allows inline style only), a
//! timeline beside its replay on a wide screen, one above the other on a narrow one,
//! the replay's scrolling lifted for print.

/// The `<style>` element of the page.
pub const STYLE: &str = r#"<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1500px;padding:1rem;color:#1c1e21;background:#fff}
h1{font-size:1.35rem;margin:.2rem 0 .6rem}
td,li,p,.ln,.who{overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:2.2rem 0 .3rem;word-break:break-all;border-top:2px solid #e3e3e3;padding-top:.8rem}
h3{font-size:.95rem;margin:1.2rem 0 .3rem;word-break:break-all}
.summary,.verdict{margin:.2rem 0}
.totals{display:flex;flex-wrap:wrap;gap:.4rem 1.4rem;margin:.2rem 0 .8rem;padding:.6rem .8rem;background:#f4f6f8;border-radius:6px}
.totals b{font-size:1.15rem}
.axis,.note{color:#666;font-size:.85rem}
.pair{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,6fr);gap:1rem;align-items:start}
.pair>.tl{position:sticky;top:.5rem}
svg.timeline{width:100%;height:auto;display:block;border:1px solid #ddd;border-radius:4px;background:#fafafa}
svg text{font:11px system-ui,sans-serif;fill:#333}
svg text.label{fill:#fff;pointer-events:none}
svg text.tick{fill:#666;font-size:10px}
svg line.axis,svg line.tick{stroke:#999;stroke-width:1}
.bar.session rect{fill:#9aa5b1}.bar.task rect{fill:#4c8bf5}.bar.subagent rect{fill:#9c6ade}.bar.distillation rect{fill:#2a9d8f}.bar.tool rect{fill:#c9a227}.bar.tool.failed rect{fill:#e76f51}
svg circle.error{fill:#b3261e}svg circle.warning{fill:#d08a00}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.2rem 1rem;padding:0;margin:.3rem 0;font-size:.8rem;color:#444}
.legend i{display:inline-block;width:.9rem;height:.7rem;border-radius:2px;margin-right:.3rem;vertical-align:middle}
.sw.session{background:#9aa5b1}.sw.task{background:#4c8bf5}.sw.subagent{background:#9c6ade}.sw.distillation{background:#2a9d8f}.sw.tool{background:#c9a227}.sw.tool.failed{background:#e76f51}
.dot{border-radius:50%!important;width:.7rem!important}.dot.error{background:#b3261e}.dot.warning{background:#d08a00}
ol.replay{list-style:none;margin:0;padding:0;max-height:80vh;overflow:auto;border:1px solid #e3e3e3;border-radius:4px}
ol.replay li{padding:.3rem .5rem;border-bottom:1px solid #f0f0f0}
ol.replay li.nested{margin-left:1.2rem;border-left:3px solid #9c6ade}
ol.replay li.user{background:#f3f7ff}ol.replay li.call{background:#fffaf0}
ol.replay li.line{padding:0 .5rem;border:0}ol.replay li.line pre{display:inline}
ol.replay li.marker{background:#eef4ff;font-weight:600}
li:target,tr:target{outline:2px solid #f5b400;background:#fff7d6!important}
.ln{color:#888;font-size:.75rem;margin-right:.4rem}
li.reasoning{color:#555;font-style:italic}
.who,.tool{font-weight:600}.who{color:#1b5e20}li.user .who{color:#0d47a1}li.subagent .who{color:#6a1b9a}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem}
pre.text{white-space:pre-wrap;word-break:break-word;margin:.2rem 0}
.cut,.redacted{color:#888;font-style:italic}
details summary{cursor:pointer;color:#555}
li.failed summary{color:#b3261e}
.badge{font-size:.72rem;padding:0 .3rem;border-radius:3px;color:#fff!important;text-decoration:none;margin-left:.2rem}
.badge.error{background:#b3261e}.badge.warning{background:#d08a00}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.85rem}
th,td{border-bottom:1px solid #e3e3e3;padding:.25rem .4rem;text-align:left;vertical-align:top}
td.q{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;max-width:28rem}
.error{color:#b3261e;font-weight:600}
.warning{color:#8a5a00;font-weight:600}
.ok{color:#1b7f3b;font-weight:600}
#tools{position:sticky;top:0;background:#fff;padding:.4rem 0;z-index:1;border-bottom:1px solid #eee}
#search{width:20rem;max-width:60vw;padding:.25rem .4rem}
.keys{color:#777;font-size:.8rem;margin-left:.6rem}
.hide{display:none}
footer{color:#777;font-size:.8rem;margin-top:2rem}
@media print{body{max-width:none}svg.timeline{break-inside:avoid}.table{overflow:visible}ol.replay{max-height:none;overflow:visible}#tools{display:none}.pair>.tl{position:static}}
@media (max-width:900px){.pair{grid-template-columns:1fr}.pair>.tl{position:static}}
@media (max-width:600px){body{padding:.5rem}td.q{max-width:12rem}}
</style>
"#;
