// Numeric CSV files as tensors: features x (float32 [rows, columns]) and an optional label column y.
// Fields follow RFC 4180 (double quotes, "" inside quotes, CRLF or LF line ends).
import * as fs from 'node:fs';
import { SymtensorError, argError, fmtValue } from '../errors';
import { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/creation';

/** The options of readCsv and parseCsv. */
export interface CsvOptions {
  /** The first line names the columns (default true). */
  header?: boolean;
  /** The column holding labels (its name, or its index; negative counts from the end); taken out of x. */
  labelColumn?: string | number;
  /** Field separator, one character (default ','). */
  delimiter?: string;
}

/**
 * A CSV file as tensors: `x` float32 [rows, features] of every column but the label one, `columns`
 * the names of x's columns (from the header, else '0', '1', …).  With `labelColumn`: `y` int32 [rows]
 * when every label is an integer, float32 otherwise; labels that are not numbers ("cat", "dog") become
 * indices into `classes`, the distinct names sorted.
 */
export interface CsvData {
  x: Tensor;
  y?: Tensor;
  columns: string[];
  labelName?: string;
  classes?: string[];
}

/** Numbers as written in data files; Number() alone would read '' and '0x1f' too. */
const NUMBER_RE = /^[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf|infinity|nan)$/i;

function parseNumber(s: string): number | null {
  const t = s.trim();
  if (!NUMBER_RE.test(t)) return null;
  const lower = t.toLowerCase().replace(/^[+]/, '');
  if (lower === 'nan' || lower === '-nan') return NaN;
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return Number(t);
}

/** Splits CSV text into records of fields, with the 1-based line each record starts on. */
function* records(text: string, delim: string, fail: (line: number, msg: string) => never): Generator<{ line: number; fields: string[] }> {
  let i = 0;
  let line = 1;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // a byte-order mark
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) fail(start, 'a quoted field is not closed before the end of the file');
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (i < n && text[i] !== delim && text[i] !== '\n' && text[i] !== '\r') fail(line, `unexpected ${fmtValue(text[i])} after a closing quote`);
      } else {
        let j = i;
        while (j < n && text[j] !== delim && text[j] !== '\n' && text[j] !== '\r') j++;
        field = text.slice(i, j);
        i = j;
      }
      fields.push(field);
      if (i < n && text[i] === delim) {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    // blank lines (including a final newline) are not records
    if (fields.length === 1 && fields[0].trim() === '') continue;
    yield { line: start, fields };
  }
}

/**
 * Parses CSV text of numbers (see readCsv); `source` names the file in errors.
 * @example parseCsv('a,b,label\n1,2,0\n3,4,1\n', { labelColumn: 'label' }).y  // int32 [0, 1]
 */
export function parseCsv(text: string, opts: CsvOptions = {}, source?: string): CsvData {
  return parse('parseCsv', text, opts, source);
}

function parse(op: string, text: string, opts: CsvOptions, source: string | undefined): CsvData {
  if (typeof text !== 'string') throw argError(op, `expected the CSV text as a string, got ${fmtValue(text)}`);
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw argError(op, `options must be an object ({ header, labelColumn, delimiter }), got ${fmtValue(opts)}`);
  const { header = true, labelColumn, delimiter = ',', ...rest } = opts;
  const extra = Object.keys(rest);
  if (extra.length) throw argError(op, `unknown option${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')} (valid: header, labelColumn, delimiter)`);
  if (typeof header !== 'boolean') throw argError(op, `header must be a boolean, got ${fmtValue(header)}`);
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r')
    throw argError(op, `delimiter must be one character other than a quote or a line break, got ${fmtValue(delimiter)}`);
  if (labelColumn !== undefined && typeof labelColumn !== 'string' && !Number.isInteger(labelColumn))
    throw argError(op, `labelColumn must be a column name or an integer index, got ${fmtValue(labelColumn)}`);
  if (typeof labelColumn === 'string' && !header) throw argError(op, `labelColumn ${JSON.stringify(labelColumn)} is a name, but header is false (give its index instead)`);
  const where = source ? `${source}, ` : '';
  const fail = (line: number, msg: string): never => {
    throw new SymtensorError('ERR_ST_VALUE', op, `${where}line ${line}: ${msg}`);
  };

  const it = records(text, delimiter, fail);
  let names: string[] | null = null;
  let headerLine = 0;
  if (header) {
    const first = it.next();
    if (first.done) throw new SymtensorError('ERR_ST_VALUE', op, `${source ? source + ': ' : ''}the file is empty (expected a header line)`);
    names = first.value.fields.map((f) => f.trim());
    headerLine = first.value.line;
  }
  let width = names ? names.length : -1;
  let label = -1;
  const resolveLabel = () => {
    if (labelColumn === undefined) return;
    if (typeof labelColumn === 'string') {
      label = names!.indexOf(labelColumn);
      if (label < 0) throw argError(op, `${where}labelColumn ${JSON.stringify(labelColumn)} is not a column (columns: ${names!.map((c) => JSON.stringify(c)).join(', ')})`);
    } else {
      label = labelColumn < 0 ? width + labelColumn : labelColumn;
      if (label < 0 || label >= width) throw argError(op, `${where}labelColumn ${labelColumn} is out of range for ${width} columns`);
    }
  };
  if (names) resolveLabel();

  const xs: number[] = [];
  const ys: string[] = [];
  const yLines: number[] = [];
  let rows = 0;
  for (const { line, fields } of it) {
    if (width < 0) {
      width = fields.length;
      resolveLabel();
    }
    if (fields.length !== width)
      fail(line, `${fields.length} fields, expected ${width} (${names ? `as in the header on line ${headerLine}` : 'as in the first row'})`);
    for (let c = 0; c < width; c++) {
      if (c === label) {
        ys.push(fields[c].trim());
        yLines.push(line);
        continue;
      }
      const v = parseNumber(fields[c]);
      if (v === null) fail(line, `column ${names ? JSON.stringify(names[c]) : c} (field ${c + 1}) is not a number: ${fmtValue(fields[c])}${fields[c].trim() === '' ? ' (missing value)' : ''}`);
      xs.push(v as number);
    }
    rows++;
  }
  if (width < 0) width = 0;
  const features = width - (label >= 0 ? 1 : 0);
  const allNames = names ?? Array.from({ length: width }, (_, c) => String(c));
  const out: CsvData = {
    x: tensor(Float32Array.from(xs), { shape: [rows, features], dtype: 'float32' }),
    columns: allNames.filter((_, c) => c !== label),
  };
  if (label >= 0) {
    out.labelName = allNames[label];
    Object.assign(out, labelsOf(ys, yLines, fail));
  }
  return out;
}

/** y from the label cells: int32 when all are integers, float32 when all are numbers, else class indices. */
function labelsOf(cells: string[], lines: number[], fail: (line: number, msg: string) => never): { y: Tensor; classes?: string[] } {
  const rows = cells.length;
  const nums = cells.map(parseNumber);
  if (nums.every((v) => v !== null)) {
    const vals = nums as number[];
    if (vals.every((v) => Number.isInteger(v) && Math.abs(v) < 2 ** 31)) return { y: tensor(Int32Array.from(vals), { shape: [rows], dtype: 'int32' }) };
    return { y: tensor(Float32Array.from(vals), { shape: [rows], dtype: 'float32' }) };
  }
  const missing = cells.findIndex((c) => c === '');
  if (missing >= 0) fail(lines[missing], 'the label is missing');
  const classes = [...new Set(cells)].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  return { y: tensor(Int32Array.from(cells, (c) => index.get(c)!), { shape: [rows], dtype: 'int32' }), classes };
}

/**
 * Reads a CSV file of numbers: `x` float32 [rows, features], and `y` from `labelColumn` (see CsvData).
 * A ragged row, a cell that is not a number, or an unclosed quote is an error naming the line.
 * @example const { x, y, columns } = await readCsv('iris.csv', { labelColumn: 'species' })
 */
export async function readCsv(filePath: string, opts: CsvOptions = {}): Promise<CsvData> {
  const op = 'readCsv';
  if (typeof filePath !== 'string' || filePath === '') throw argError(op, `path must be a non-empty string, got ${fmtValue(filePath)}`);
  let text: string;
  try {
    text = await fs.promises.readFile(filePath, 'utf8');
  } catch (e) {
    throw readFailure(op, filePath, e);
  }
  return parse(op, text, opts, filePath);
}

/** Same as readCsv, blocking. */
export function readCsvSync(filePath: string, opts: CsvOptions = {}): CsvData {
  const op = 'readCsvSync';
  if (typeof filePath !== 'string' || filePath === '') throw argError(op, `path must be a non-empty string, got ${fmtValue(filePath)}`);
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (e) {
    throw readFailure(op, filePath, e);
  }
  return parse(op, text, opts, filePath);
}

function readFailure(op: string, filePath: string, e: unknown): SymtensorError {
  const err = e as NodeJS.ErrnoException;
  return new SymtensorError('ERR_ST_LOAD', op, `cannot read ${filePath}: ${err.code === 'ENOENT' ? 'no such file' : err.message ?? String(e)}`);
}
