// The HTML building blocks of every report: the page, sections, tables, panels. Shared by the compare,
// evaluate and distill reports (a module of its own, so that those do not import each other).
import type { Interval } from '../train/analysis.js';
import { escapeHtml } from './escape.js';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1280px; padding: 1.5rem; color: #222; box-sizing: border-box; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; overflow-wrap: anywhere; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
.meta { color: #666; overflow-wrap: anywhere; } .scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .8rem 0; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { padding: .25rem .5rem; text-align: right; border-bottom: 1px solid #eee; vertical-align: top; }
th { vertical-align: bottom; }
.nw { white-space: nowrap; }
td small { display: block; color: #666; white-space: nowrap; }
th.k, td.k { text-align: left; } th:first-child, td:first-child { min-width: 6em; }
code { font: .92em ui-monospace, monospace; background: #f3f3f3; padding: 0 .2em; }
.panels { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-start; }
.panels svg { max-width: 100%; height: auto; }
p.note { color: #555; max-width: 70rem; } p.takeaway { font-size: 1.05rem; max-width: 70rem; }
ul.insights li { margin: .25rem 0; max-width: 70rem; }
@media (max-width: 900px) { body { padding: 1rem; } th, td { padding: .25rem .35rem; } }`;

const f4 = (x: number) => x.toFixed(4);

/** A number, a "± sd" or an interval: kept on one line. */
const NUMERIC = /^[±+\-−\d.,[\] e]*$/;

/**
 * One line of a cell: numbers and intervals stay whole, "±" may start a new line (a narrow column stacks
 * "0.0850" over "± 0.0040"), text wraps between words but keeps "ε = 0.1" together.
 */
function cellLine(line: string): string {
  return line
    .split(' ± ')
    .map((part, i) => {
      const text = `${i ? '± ' : ''}${part}`;
      const html = escapeHtml(text).replace(/ = /g, '\u00a0=\u00a0');
      return NUMERIC.test(text) ? `<span class="nw">${html}</span>` : html;
    })
    .join(' ');
}

/**
 * An HTML table; cells are escaped, and a line break in a cell starts a second, smaller line (an
 * interval under its value). Cells wrap between their parts, so that the browser narrows the columns to
 * fit the page instead of running the table off it.
 */
export function table(
  header: string[],
  rows: string[][],
  o: { caption?: string; keys?: number } = {},
): string {
  // The first `keys` columns name the row: text, left-aligned; the others hold numbers, right-aligned.
  const keys = o.keys ?? 1;
  const cls = (i: number) => (i < keys ? ' class="k"' : '');
  const h = header.map((c, i) => `<th${cls(i)}>${cellLine(c)}</th>`).join('');
  const td = (c: string, i: number) => {
    const [first, ...rest] = c.split('\n');
    return `<td${cls(i)}>${cellLine(first)}${rest.map((x) => `<small>${escapeHtml(x)}</small>`).join('')}</td>`;
  };
  const b = rows.map((r) => `<tr>${r.map(td).join('')}</tr>`).join('\n');
  const cap = o.caption ? `<caption>${escapeHtml(o.caption)}</caption>` : '';
  return `<div class="scroll"><table>${cap}<thead><tr>${h}</tr></thead><tbody>\n${b}\n</tbody></table></div>`;
}

/** Columns (by header) shown together as one table, under a caption. */
export interface ColumnGroup {
  caption: string;
  columns: string[];
}

/**
 * A wide table as several narrower ones, one per group of columns, each repeating the first `keys`
 * columns (what names a row). A handful of value columns per table (each two lines: value, interval)
 * fits an 800-px page without a sideways scroll. Columns named by no group make a last table of their
 * own, so that nothing is dropped; groups with none of the header's columns are left out.
 */
export function tableGroups(
  header: string[],
  rows: string[][],
  o: { keys: number; groups: ColumnGroup[]; rest?: string },
): string {
  const named = new Set(o.groups.flatMap((g) => g.columns));
  const values = header.slice(o.keys);
  const groups = [
    ...o.groups.map((g) => ({ caption: g.caption, columns: g.columns.filter((c) => values.includes(c)) })),
    { caption: o.rest ?? 'Other metrics', columns: values.filter((c) => !named.has(c)) },
  ].filter((g) => g.columns.length);
  return groups
    .map((g) => {
      const at = [...header.keys()].slice(0, o.keys).concat(g.columns.map((c) => header.indexOf(c)));
      return table(
        at.map((i) => header[i]),
        rows.map((r) => at.map((i) => r[i])),
        { caption: groups.length > 1 ? g.caption : undefined, keys: o.keys },
      );
    })
    .join('');
}

/** Text as HTML: escaped, and each `command` between backticks set as code (the backticks are not shown). */
export const inlineHtml = (s: string) =>
  escapeHtml(s).replace(/`([^`]+)`/g, (_, code: string) => `<code>${code}</code>`);

/** A report section; `note` and the title are escaped, `body` is trusted HTML. */
export const section = (title: string, note: string, body: string) =>
  `<section><h2>${escapeHtml(title)}</h2>${note ? `<p class="note">${inlineHtml(note)}</p>` : ''}${body}</section>`;

/** Panels (SVG strings) that wrap onto new rows when the page is narrow. */
export const panels = (svgs: string[]) => `<div class="panels">${svgs.join('')}</div>`;

/** Sentences as a list. */
export const sentences = (xs: string[]) =>
  `<ul class="insights">${xs.map((s) => `<li>${inlineHtml(s)}</li>`).join('')}</ul>`;

/** The page around the sections. */
export function page(title: string, meta: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1><p class="meta">${escapeHtml(meta)}</p>
${body}
<p class="meta">Generated by labelsmooth. Charts: Vega-Lite rendered to SVG.</p></body></html>
`;
}

/** "0.0850 ± 0.0040", then "[0.079, 0.091]" on a second line: mean, ± sd over seeds (several seeds), interval when known. */
export function cell(s: { mean: number; sd: number }, runs: number, iv?: Interval): string {
  const sd = runs > 1 ? ` ± ${f4(s.sd)}` : '';
  return `${f4(s.mean)}${sd}${iv ? `\n[${iv[0].toFixed(3)}, ${iv[1].toFixed(3)}]` : ''}`;
}
