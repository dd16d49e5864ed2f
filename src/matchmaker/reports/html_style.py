"""The HTML report's stylesheet: screen, phone (no sideways scrolling) and A4 print.

The decision comes first (the summary and the recommended introductions), the details after; in
print the details start on a new page, cards are not split across pages, and tables never scroll.
"""

from __future__ import annotations

from matchmaker.reports.charts import NEED_COLOUR, OFFER_COLOUR

_CSS = """
:root { --ink: #1b1f24; --muted: #5b6470; --line: #d8dde3; --soft: #f4f6f8; --accent: #1d4e89;
        --offer: OFFER; --need: NEED; --warn-bg: #fff4d6; --warn: #7a5200; --bridge: #0b5d3b; }
* { box-sizing: border-box; }
html { font-size: 15px; -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif;
       overflow-wrap: break-word; }
main { max-width: 960px; margin: 0 auto; padding: 0 24px 48px; }
header.top { background: var(--accent); color: #fff; padding: 24px 0 20px; margin-bottom: 20px; }
header.top > div { max-width: 960px; margin: 0 auto; padding: 0 24px; }
header.top h1 { margin: 0 0 6px; font-size: 1.7rem; font-weight: 650; line-height: 1.2; }
header.top p { margin: 0; opacity: .92; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin: 16px 0 0; }
.kpi { background: rgba(255,255,255,.12); border: 1px solid rgba(255,255,255,.25); border-radius: 8px;
       padding: 8px 11px; }
.kpi b { display: block; font-size: 1.3rem; font-weight: 650; }
.kpi span { font-size: .84rem; opacity: .95; }
h2 { font-size: 1.3rem; margin: 32px 0 8px; padding-bottom: 5px; border-bottom: 2px solid var(--accent);
     color: var(--accent); }
h3 { font-size: 1.05rem; margin: 0 0 6px; line-height: 1.3; }
h4 { font-size: .95rem; margin: 14px 0 6px; color: var(--muted); }
p.lead { color: var(--muted); margin-top: 0; }
nav.toc { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 8px 16px;
          font-size: .92rem; }
nav.toc ol { margin: 4px 0; padding-left: 20px; columns: 2; }
a { color: var(--accent); }
code { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: .86rem; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 7px; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
thead th { background: var(--soft); font-weight: 600; border-bottom: 2px solid var(--line); overflow-wrap: normal; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; overflow-wrap: normal; }
td.zero { color: #a3abb5; }
td.score { font-weight: 650; }
.muted { color: var(--muted); }
.small { font-size: .82rem; }
.badge { display: inline-block; max-width: 100%; font-size: .72rem; font-weight: 600; padding: 1px 7px;
         border-radius: 10px; border: 1px solid currentColor; vertical-align: 1px; line-height: 1.35;
         white-space: normal; overflow-wrap: anywhere;
         -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.badge.bridge { color: var(--bridge); background: #e3f4ea; white-space: nowrap; }
.badge.bg { color: var(--warn); background: var(--warn-bg); }
.badge.dim { color: var(--accent); background: #e8eef7; white-space: nowrap; }
.pick { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 8px;
        padding: 10px 14px; margin: 10px 0; }
.pick.bridge { border-left-color: var(--bridge); }
.pick h3 { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; }
.pick h3 .who { flex: 1 1 18em; }
.pick h3 .score { font-size: 1.15rem; color: var(--accent); font-variant-numeric: tabular-nums; }
.pick p { margin: 2px 0 6px; }
.pick ol { margin: 4px 0 4px; padding-left: 20px; }
.pick li { margin: 3px 0; }
.pick .more { font-size: .84rem; }
.source { color: var(--muted); font-size: .8rem; overflow-wrap: anywhere; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; margin: 12px 0; background: #fff; }
.pair-score { float: right; font-size: 1.25rem; font-weight: 700; color: var(--accent); margin-left: 12px; }
.formula { background: var(--soft); border-radius: 6px; padding: 8px 10px; font-size: .86rem; }
table.lines { table-layout: fixed; }
table.lines col.c-num { width: 5em; }
table.lines col.c-sim { width: 6.6em; }
table.lines col.c-dim { width: 6.4em; }
table.dims { width: auto; min-width: 60%; }
table.dims th[scope=row] { background: none; font-weight: 600; white-space: nowrap; }
.strength { color: var(--muted); font-size: .8rem; white-space: nowrap; }
blockquote { margin: 4px 0 2px; padding: 1px 8px; border-left: 3px solid #b8c4d3; color: #333; font-size: .82rem; }
blockquote cite { display: block; font-style: normal; color: var(--muted); font-size: .76rem; overflow-wrap: anywhere; }
.background { margin: 4px 0 2px; padding: 3px 8px; background: var(--warn-bg); border-left: 3px solid #e0a100;
              font-size: .8rem; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.org { display: grid; grid-template-columns: minmax(240px, 330px) minmax(0, 1fr); gap: 14px; align-items: start; }
td.who { min-width: 9em; }
figure { margin: 10px 0; }
figcaption { font-size: .82rem; color: var(--muted); margin-top: 4px; }
svg.chart { display: block; max-width: 100%; height: auto; }
figure.wide svg.chart { margin: 0 auto; }
.note { font-size: .84rem; color: var(--muted); }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: .88rem; }
dl.settings dt { font-weight: 600; }
dl.settings dd { margin: 0; overflow-wrap: anywhere; }
pre.command { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px;
              white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; }
.legend-offer { color: var(--offer); font-weight: 600; }
.legend-need { color: var(--need); font-weight: 600; }
.details-start { margin-top: 40px; padding-top: 8px; border-top: 4px double var(--line); }
footer { margin-top: 40px; font-size: .8rem; color: var(--muted); border-top: 1px solid var(--line);
         padding-top: 10px; }
@media (max-width: 760px) {
  html { font-size: 14px; }
  main, header.top > div { padding-left: 12px; padding-right: 12px; }
  .org { grid-template-columns: minmax(0, 1fr); }
  nav.toc ol { columns: 1; }
  .kpis { grid-template-columns: 1fr 1fr; }
  table.lines, table.lines tbody, table.lines tr, table.lines td { display: block; width: 100%; }
  table.lines colgroup, table.lines thead { display: none; }
  table.lines tr { border-bottom: 1px solid var(--line); padding: 4px 0; }
  table.lines td { border: 0; padding: 2px 4px; }
  table.lines td.num { text-align: left; }
  table.lines td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
  table.dims { min-width: 0; }
  .pair-score { float: none; display: block; margin: 0 0 4px; }
}
@page { size: A4; margin: 12mm 11mm 13mm; }
@media print {
  html { font-size: 9.5pt; }
  main { max-width: none; padding: 0; }
  header.top { background: none; color: var(--ink); padding: 0 0 6px; margin-bottom: 8px;
               border-bottom: 2px solid var(--accent); }
  header.top > div { padding: 0; }
  .kpis { grid-template-columns: repeat(5, 1fr); gap: 6px; margin-top: 8px; }
  .kpi { background: none; border-color: var(--line); padding: 4px 6px; }
  .kpi b { font-size: 1.1rem; }
  h2 { margin-top: 14px; }
  h2, h3, h4 { break-after: avoid; }
  .details-start { break-before: page; border-top: 0; margin-top: 0; padding-top: 0; }
  section.page { break-before: page; }
  .pick, .card.org-card, figure, tr, blockquote, .background { break-inside: avoid; }
  .scroll { overflow: visible; }
  table { font-size: 8pt; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
  nav.toc, .pick .more { display: none; }
  .org { grid-template-columns: minmax(0, 1fr); gap: 4px; }
  .org figure { margin: 0; }
  .org figure svg.chart { max-width: 300px; }
  footer { margin-top: 12px; }
}
"""

CSS = _CSS.replace("OFFER", OFFER_COLOUR).replace("NEED", NEED_COLOUR)
