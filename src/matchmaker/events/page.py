"""The printable page every event document shares: self-contained HTML with a print stylesheet.

No scripts, fonts, images or links; a Content-Security-Policy of ``default-src 'none'`` makes that
checkable (``img-src data:`` only lets the empty ``data:,`` icon stop a browser asking for a favicon),
and every text is escaped. On a phone an agenda's rows stack (time and table, then partner and
reasons), so nothing scrolls sideways.
"""

from __future__ import annotations

from html import escape

CSS = """
* { box-sizing: border-box; }
body { margin: 0; color: #1b1f24; background: #fff; line-height: 1.4;
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans JP",
       "Noto Sans Devanagari", "DejaVu Sans", Arial, sans-serif; }
main { max-width: 900px; margin: 0 auto; padding: 24px 28px 40px; }
section.agenda + section.agenda { margin-top: 48px; }
h1 { font-size: 1.5rem; margin: 0 0 2px; }
h2 { font-size: 1.05rem; font-weight: 600; color: #5b6470; margin: 0 0 14px; }
p.note { color: #5b6470; margin: 6px 0 14px; }
table { width: 100%; border-collapse: collapse; font-size: .95rem; }
th, td { text-align: left; vertical-align: top; padding: 7px 8px; border-bottom: 1px solid #d8dde3; }
th { background: #f4f6f8; font-weight: 600; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; width: 8.5em; }
td.table { white-space: nowrap; font-weight: 650; width: 5em; }
td.partner b { display: block; }
td.partner span { color: #5b6470; font-size: .85rem; }
ul.reasons { margin: 0; padding-left: 1.1em; font-size: .88rem; }
tr.date th { background: #fff; border-bottom: 2px solid #1d4e89; font-size: 1rem; padding-top: 14px; }
footer { margin-top: 18px; font-size: .8rem; color: #5b6470; }
td { overflow-wrap: anywhere; }
@media screen and (max-width: 640px) {
  main { padding: 16px 14px 32px; }
  section.agenda table, section.agenda tbody, section.agenda tr, section.agenda td, section.agenda th {
    display: block; width: auto; }
  section.agenda thead { display: none; }
  section.agenda tr { border-bottom: 1px solid #d8dde3; padding: 8px 0; }
  section.agenda td, section.agenda th { border: 0; padding: 2px 0; }
  section.agenda td.time, section.agenda td.table { display: inline-block; margin-right: 12px; }
}
@page { size: A4; margin: 12mm 12mm; }
@media print {
  body { font-size: 9.5pt; line-height: 1.25; }
  h1 { font-size: 15pt; }
  h2 { margin-bottom: 6px; }
  p.note { margin: 4px 0 8px; }
  main { max-width: none; padding: 0; }
  section.agenda + section.agenda { margin-top: 0; break-before: page; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
  th { background: none; }
  /* on paper a meeting is one line (time, table, partner) with its top two reasons under it, full width,
     so that every agenda fits one A4 page */
  section.agenda table, section.agenda tbody, section.agenda td, section.agenda th { display: block; }
  section.agenda thead { display: none; }
  section.agenda tr { display: grid; grid-template-columns: 7.5em 3.5em 1fr; border-bottom: 1px solid #d8dde3; }
  section.agenda tr.date { display: block; }
  section.agenda td, section.agenda th { border: 0; padding: 2px 6px; width: auto; }
  section.agenda td:nth-child(4) { grid-column: 3; padding-top: 0; }
  section.agenda td.partner b { display: inline; }
  section.agenda td.partner span { margin-left: .6em; }
  ul.reasons { font-size: 8pt; padding-bottom: 2px; }
  ul.reasons li:nth-child(n+3) { display: none; }
}
"""

HEAD = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
    '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
)


def e(text: object) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return escape(str(text), quote=True)


def page(title: str, body: str) -> str:
    """A complete page: the head (title, stylesheet, policy) and ``body`` inside ``<main>``."""
    return f"{HEAD}<title>{e(title)}</title><style>{CSS}</style></head><body><main>{body}</main></body></html>\n"
