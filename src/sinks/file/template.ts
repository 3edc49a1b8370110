// The `file` sink's path template (SPEC §6): `exports/{startTime:yyyy/MM/dd}.csv`,
// `exports/{tenant}/calls.ndjson`. `{<path>}` inserts a field, `{<time path>:<pattern>}`
// a time in UTC with yyyy MM dd HH mm (and ss). Relative to the current folder, or absolute.
//
// Never leaving the fixed folder (the template's text before the first `{`, up to its
// last `/`): an inserted field is one file-system name made safe by the backup's own
// rule (src/store/names.ts, SPEC §5: percent-encoded, and a value with a separator,
// a control character, only dots or a reserved Windows name is refused), a date
// pattern gives digits and the pattern's own safe characters, and the literal text
// after the fixed folder may not hold `.`/`..` segments. A refused value fails that
// record (listed at the end), never writes elsewhere.

import path from 'node:path';
import { RcbsError } from '../../errors.js';
import { asInstant, asText, checkPath, parsePath, recordValues, valuesAt, type FieldPath } from '../../pipeline/fields.js';
import type { PipelineRecord } from '../../pipeline/types.js';
import { formatUtc, safeName } from '../../store/names.js';

type Part = { literal: string } | { field: FieldPath; text: string; pattern?: string };

export interface PathTemplate {
  /** The folder no rendered path leaves (absolute). */
  readonly fixedDir: string;
  /** True when the template has no placeholder: one file. */
  readonly single: boolean;
  render(record: PipelineRecord): string;
}

const DATE_TOKENS = /yyyy|MM|dd|HH|mm|ss/g;

/** Splits a template into literal text and placeholders; problems go to `problems`. */
function parseTemplate(template: string, problems: string[]): Part[] {
  const parts: Part[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (close !== -1 && (open === -1 || close < open)) {
      problems.push(`/path: "${template}" has a "}" without its "{"`);
      return parts;
    }
    if (open === -1) {
      parts.push({ literal: rest });
      break;
    }
    if (open > 0) parts.push({ literal: rest.slice(0, open) });
    const end = rest.indexOf('}', open);
    if (end === -1) {
      problems.push(`/path: "${template}" has a "{" without its "}"`);
      return parts;
    }
    const inside = rest.slice(open + 1, end);
    const colon = inside.indexOf(':');
    const text = colon === -1 ? inside : inside.slice(0, colon);
    const pattern = colon === -1 ? undefined : inside.slice(colon + 1);
    const pathProblem = checkPath(text);
    if (pathProblem) problems.push(`/path: {${inside}}: ${pathProblem}`);
    if (pattern !== undefined) {
      const literal = pattern.replace(DATE_TOKENS, '');
      if (!/yyyy|MM|dd|HH|mm|ss/.test(pattern) || !/^[A-Za-z0-9_.=@+/-]*$/.test(literal) || /[A-Za-z]/.test(literal)) {
        problems.push(`/path: {${inside}}: the time pattern "${pattern}" may hold yyyy MM dd HH mm ss, "/" between folders and - _ . between them (e.g. {startTime:yyyy/MM/dd})`);
      }
    }
    parts.push({ field: parsePath(text) ?? [text], text, pattern });
    rest = rest.slice(end + 1);
  }
  return parts;
}

/** The one value of a field in a record: from the row, else the recording. */
function valueFor(record: PipelineRecord, field: FieldPath, text: string): unknown {
  let values = recordValues(record, field);
  if (values.length === 0 && record.row && !field[0]!.startsWith('@')) values = valuesAt(record.recording, field);
  const distinct = [...new Set(values.filter((v) => v !== null).map((v) => (typeof v === 'object' ? JSON.stringify(v) : v)))];
  if (distinct.length === 0) throw new RcbsError('RCBS_UNSAFE_NAME', `the path template needs {${text}} and the record has no such field`, { field: text });
  if (distinct.length > 1) throw new RcbsError('RCBS_UNSAFE_NAME', `the path template needs one value of {${text}} and the record has ${distinct.length} (${distinct.slice(0, 3).join(', ')})`, { field: text });
  return distinct[0];
}

/** Checks a template completely (`problems` as `/path: …`) and returns its renderer. */
export function compileTemplate(template: string, problems: string[], cwd = process.cwd()): PathTemplate {
  const parts = parseTemplate(template, problems);
  const firstField = parts.findIndex((p) => 'field' in p);
  const prefix = firstField === -1 ? template : parts.slice(0, firstField).map((p) => (p as { literal: string }).literal).join('');
  const fixedDir = path.resolve(cwd, prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '.');
  if (template.endsWith('/')) problems.push(`/path: "${template}" names a folder; end it with a file name (e.g. exports/{startTime:yyyy/MM/dd}.csv)`);

  const renderRaw = (value: (part: Extract<Part, { field: FieldPath }>) => string): string =>
    parts.map((p) => ('literal' in p ? p.literal : value(p))).join('');

  /** The rendered remainder under fixedDir must be plain names: no `.`/`..`, no empty segment. */
  const checkRemainder = (rendered: string): string | undefined => {
    const full = path.resolve(cwd, rendered);
    const rel = path.relative(fixedDir, full);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return `leaves its folder ${fixedDir}`;
    if (firstField === -1) return undefined;
    const tail = rendered.slice(prefix.lastIndexOf('/') + 1);
    if (tail.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'has an empty, "." or ".." folder after its fixed folder';
    return undefined;
  };

  if (firstField !== -1) {
    // The literal text around the fields, rendered with a plain name in each field.
    const sample = renderRaw((p) => (p.pattern ? formatUtc(p.pattern, 0) : 'x'));
    const problem = checkRemainder(sample);
    if (problem) problems.push(`/path: "${template}" ${problem}`);
  }

  // No field: one file, the same path for every record.
  const onlyPath = firstField === -1 ? path.resolve(cwd, template) : undefined;
  return {
    fixedDir,
    single: firstField === -1,
    render(record) {
      if (onlyPath !== undefined) return onlyPath;
      const rendered = renderRaw((p) => {
        const value = valueFor(record, p.field, p.text);
        if (p.pattern !== undefined) {
          const ms = asInstant(value);
          if (ms === undefined) throw new RcbsError('RCBS_UNSAFE_NAME', `the path template needs a time in {${p.text}} and the record has ${JSON.stringify(value)}`, { field: p.text });
          return formatUtc(p.pattern, ms);
        }
        return safeName(asText(value), `value of {${p.text}} in the path template`);
      });
      const problem = checkRemainder(rendered);
      if (problem) throw new RcbsError('RCBS_UNSAFE_NAME', `the rendered path ${rendered} ${problem}`, { path: rendered });
      return path.resolve(cwd, rendered);
    },
  };
}
