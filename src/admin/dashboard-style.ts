/**
 * The dashboard's stylesheet (issue #12), inline in the page so the single
 * binary serves it with nothing beside it. Below 760 px the tables turn into
 * one card per row, each value under its column's name (data-label).
 */
export const DASHBOARD_STYLE = String.raw`
:root{--bg:#f6f8fa;--panel:#fff;--text:#1f2328;--muted:#59636e;--line:#d1d9e0;--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#cf222e;--bad-bg:#ffebe9;--warn:#9a6700;--warn-bg:#fff8c5;--unk:#59636e;--unk-bg:#eef1f4;--accent:#0969da;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--panel:#151b23;--text:#e6edf3;--muted:#9198a1;--line:#3d444d;--ok:#3fb950;--ok-bg:#12261e;--bad:#f85149;--bad-bg:#2d1518;--warn:#d29922;--warn-bg:#2e2511;--unk:#9198a1;--unk-bg:#262c36;--accent:#4493f8}}
*{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",sans-serif;background:var(--bg);color:var(--text)}
a{color:var(--accent);text-decoration:none}
a:hover{text-decoration:underline}
code,.mono{font-family:var(--mono);font-size:.86em}
.top{display:flex;flex-wrap:wrap;gap:.4rem 1.25rem;align-items:center;justify-content:space-between;padding:.7rem 1.25rem;background:var(--panel);border-bottom:1px solid var(--line);position:sticky;top:0;z-index:1}
.brand{display:flex;align-items:baseline;gap:.55rem}
.brand h1{font-size:1.15rem;margin:0;letter-spacing:-.01em}
.router{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem .9rem}
.muted{color:var(--muted)}
main{padding:1rem 1.25rem;max-width:1440px;margin:0 auto}
.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(118px,1fr));gap:.7rem;margin:0 0 1rem}
.stat{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.55rem .8rem}
.stat .num{display:block;font-size:1.45rem;font-weight:600;font-variant-numeric:tabular-nums;line-height:1.3}
.stat .lbl{color:var(--muted);font-size:.74rem;text-transform:uppercase;letter-spacing:.05em}
.stat.ok .num{color:var(--ok)}
.stat.warn .num{color:var(--warn)}
.stat.bad .num{color:var(--bad)}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:8px;margin:0 0 1rem;overflow:hidden}
.panel.problems{border-color:var(--bad)}
.panel-head{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.6rem .9rem;border-bottom:1px solid var(--line)}
.panel-head h2{font-size:.95rem;margin:0}
.problems ul{margin:0;padding:.6rem .9rem .6rem 2rem}
.problems li,.problems p{font-family:var(--mono);font-size:.84em;color:var(--bad);overflow-wrap:anywhere}
.problems p{margin:0;padding:.6rem .9rem}
.wrap{overflow-x:auto}
table{width:100%;border-collapse:collapse}
th,td{padding:.45rem .6rem;text-align:left;border-bottom:1px solid var(--line);vertical-align:top;white-space:nowrap}
th{font-size:.72rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;background:var(--bg)}
tbody tr:last-child td{border-bottom:0}
.n{text-align:right;font-variant-numeric:tabular-nums}
td.hot{color:var(--bad);font-weight:600}
td.c-route{font-weight:600}
td.c-health{min-width:10.5rem}
tr.row-unreachable td:first-child,tr.row-down td:first-child{box-shadow:inset 3px 0 0 var(--bad)}
tr.row-unhealthy td:first-child{box-shadow:inset 3px 0 0 var(--warn)}
tr.row-healthy td:first-child{box-shadow:inset 3px 0 0 var(--ok)}
.badge{display:inline-block;padding:0 .5rem;border-radius:999px;font-size:.76rem;font-weight:600;line-height:1.35rem}
.h-healthy,.s-up,.r-ok{color:var(--ok);background:var(--ok-bg)}
.h-unhealthy,.r-degraded{color:var(--warn);background:var(--warn-bg)}
.h-unreachable,.s-down{color:var(--bad);background:var(--bad-bg)}
.h-unknown{color:var(--unk);background:var(--unk-bg)}
.sub{display:block;color:var(--muted);font-size:.76rem;white-space:normal;max-width:24rem;overflow-wrap:anywhere}
.tag{margin-left:.4rem;font-size:.68rem;padding:0 .3rem;border:1px solid var(--line);border-radius:4px;color:var(--muted);font-family:var(--mono)}
.live{font-size:.85rem;color:var(--muted)}
.live::before{content:"";display:inline-block;width:.55rem;height:.55rem;border-radius:50%;margin-right:.35rem;background:var(--unk);vertical-align:.02rem}
.live.on::before{background:var(--ok)}
.live.wait::before{background:var(--warn)}
.live.off::before{background:var(--bad)}
input[type=search]{font:inherit;padding:.3rem .6rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--text);width:16rem;max-width:100%}
.empty{padding:1rem .9rem;color:var(--muted);margin:0}
footer{padding:.5rem 1.25rem 2rem;color:var(--muted);font-size:.8rem;text-align:center}
@media (max-width:760px){
.top{position:static;padding:.6rem .8rem}
main{padding:.7rem}
.summary{grid-template-columns:repeat(3,1fr);gap:.5rem}
.stat{padding:.45rem .6rem}
.stat .num{font-size:1.2rem}
.stat .lbl{font-size:.66rem}
input[type=search]{width:100%}
table.cards thead{display:none}
table.cards,table.cards tbody{display:block}
table.cards tr{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:.4rem .7rem;padding:.7rem .9rem;border-bottom:1px solid var(--line)}
table.cards tbody tr:last-child{border-bottom:0}
table.cards td{display:block;padding:0;border:0;white-space:normal;text-align:left;overflow-wrap:anywhere;box-shadow:none!important}
table.cards td::before{content:attr(data-label);display:block;font-size:.66rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:400}
table.cards td.c-route{grid-column:1/-1;font-size:1rem}
table.cards td.c-route::before{display:none}
table.cards td.c-target{grid-column:span 3}
table.cards td.c-source,table.cards td.c-health{grid-column:span 2}
table.cards td.c-request{grid-column:1/-1}
table.cards td.c-time,table.cards td.c-eroute{grid-column:span 2}
table.cards td.c-code{grid-column:span 3}
tr.row-unreachable,tr.row-down{box-shadow:inset 3px 0 0 var(--bad)}
tr.row-unhealthy{box-shadow:inset 3px 0 0 var(--warn)}
tr.row-healthy{box-shadow:inset 3px 0 0 var(--ok)}
}
`
