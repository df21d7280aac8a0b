/**
 * Renders the fault matrix (fault × product → designed behaviour, and whether the last run
 * handled it) as the Markdown table the README shows, with the handled / tried counts.
 * Pure module: no I/O, so a test, a script or a CLI can render the same table.
 */
import type { Product } from '../contract/names';

/** One cell of the matrix: a fault injected into one product, and what the run made of it. */
export interface FaultTableRow {
  /** The fault as people name it, e.g. `HTTP 503 on the poll`. Rows keep their first order. */
  fault: string;
  product: Product;
  /** The designed behaviour, e.g. `retried → succeeds, 1 job`. */
  expected: string;
  /** Whether the run behaved as designed; unset when not run (no mark in the table). */
  handled?: boolean;
}

/** The rendered table and its figures. */
export interface FaultTable {
  markdown: string;
  /** Cells run and behaving as designed. */
  handled: number;
  /** Cells run (`handled` set either way). */
  tried: number;
}

/** Column order and headings. */
export const FAULT_TABLE_PRODUCTS: readonly { product: Product; heading: string }[] = [
  { product: 'vcenter', heading: 'vCenter' },
  { product: 'sddc-manager', heading: 'SDDC Manager' },
  { product: 'vcda', heading: 'VCDA' },
];

/** Text safe inside a Markdown table cell (no pipes or line breaks). */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * The matrix as a GitHub-flavoured Markdown table: one line per fault (in first-seen order), one
 * column per product; a cell is the designed behaviour, ✅ when the run handled it, ❌ when it
 * did not, `n/a` when the product has no such case. A line under the table gives the counts.
 * Two rows for the same fault and product are an error (the table would hide one).
 */
export function renderFaultTable(rows: readonly FaultTableRow[]): FaultTable {
  const faults: string[] = [];
  const cells = new Map<string, FaultTableRow>();
  for (const row of rows) {
    const key = `${row.fault}\u0000${row.product}`;
    if (cells.has(key)) throw new Error(`fault table: two rows for "${row.fault}" on ${row.product}`);
    cells.set(key, row);
    if (!faults.includes(row.fault)) faults.push(row.fault);
  }
  const tried = rows.filter((r) => r.handled !== undefined).length;
  const handled = rows.filter((r) => r.handled === true).length;
  const lines = [
    `| fault | ${FAULT_TABLE_PRODUCTS.map((p) => p.heading).join(' | ')} |`,
    `|---|${FAULT_TABLE_PRODUCTS.map(() => '---').join('|')}|`,
  ];
  for (const fault of faults) {
    const row = FAULT_TABLE_PRODUCTS.map(({ product }) => {
      const c = cells.get(`${fault}\u0000${product}`);
      if (!c) return 'n/a';
      const mark = c.handled === undefined ? '' : c.handled ? ' ✅' : ' ❌';
      return `${cell(c.expected)}${mark}`;
    });
    lines.push(`| ${cell(fault)} | ${row.join(' | ')} |`);
  }
  lines.push('', `Faults handled as designed: ${handled} / ${tried} tried (${rows.length} in the matrix).`);
  return { markdown: `${lines.join('\n')}\n`, handled, tried };
}
