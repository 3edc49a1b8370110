// Transform `filter`: keeps the records a declarative condition holds for (SPEC §6)
// and drops the others, each counted with its reason. The condition language is
// fixed by SPEC §6:
//   {"field": "<path>", <test>…}  every test given must hold
//   {"all": [c…]}  {"any": [c…]}  {"not": c}
// Tests: equals, oneOf, regex, gt/gte/lt/lte, exists. Paths as src/pipeline/fields.ts
// reads them: through an array a test holds when it holds for any element; a string
// that looks like a number compares as one (`size: "406080"` equals 406080); the
// ordering tests compare numbers, or instants when either side is a time (a GWS time,
// ISO-8601, or epoch ms). A value of another type never passes a test (a size of
// "n/a" is neither > 5 nor <= 5).
//
// The condition is checked completely at load (every problem with its JSON pointer,
// so `rcbs validate` lists them) and compiled once into plain closures: nothing is
// evaluated, no JSONPath engine runs (SPEC §6).

import { isDeepStrictEqual } from 'node:util';
import { didYouMean } from '../config/keys.js';
import { RcbsError } from '../errors.js';
import { asInstant, asNumber, checkPath, parsePath, recordValues, type FieldPath } from '../pipeline/fields.js';
import { keepWhere } from '../pipeline/streams.js';
import { defineComponent, type PipelineRecord } from '../pipeline/types.js';
import { recordingId } from '../recording.js';

export type Condition = Record<string, unknown>;

type Predicate = (record: PipelineRecord) => boolean;

const TESTS = ['equals', 'oneOf', 'regex', 'gt', 'gte', 'lt', 'lte', 'exists'] as const;
const COMBINATORS = ['all', 'any', 'not'] as const;
const KEYS = ['field', ...TESTS, ...COMBINATORS];

const show = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
};

/** A regex test's pattern: JavaScript syntax, found anywhere in the value; a leading
 * `(?i)` (Java's inline flag, as in mediaTypePattern) ignores case. */
export function compileRegex(source: string): RegExp {
  const ignoreCase = source.startsWith('(?i)');
  return new RegExp(ignoreCase ? source.slice(4) : source, ignoreCase ? 'iu' : 'u');
}

/** The values a test looks at: each value at the path, and the elements of an array value. */
function candidates(values: unknown[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? [v, ...v] : [v]));
}

function equalsTest(expected: unknown): (value: unknown) => boolean {
  const expectedNumber = asNumber(expected);
  if (expectedNumber !== undefined && typeof expected !== 'boolean') return (value) => asNumber(value) === expectedNumber;
  if (expected !== null && typeof expected === 'object') return (value) => isDeepStrictEqual(value, expected);
  return (value) => value === expected;
}

type Order = 'gt' | 'gte' | 'lt' | 'lte';
const ORDER: Record<Order, (a: number, b: number) => boolean> = {
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
};

/** An ordering test, or a problem when the bound is neither a number nor a time. */
function orderTest(op: Order, bound: unknown): ((value: unknown) => boolean) | string {
  const compare = ORDER[op];
  const boundNumber = typeof bound === 'boolean' ? undefined : asNumber(bound);
  if (boundNumber !== undefined) {
    // A number bound: numbers compare as numbers, a time field as its epoch ms.
    return (value) => {
      const n = asNumber(value) ?? asInstant(value);
      return n !== undefined && compare(n, boundNumber);
    };
  }
  const boundInstant = asInstant(bound);
  if (boundInstant === undefined) return `must be a number or a time (GWS 2015-09-01T16:42:59.000+0000, ISO-8601 or epoch ms), got ${show(bound)}`;
  return (value) => {
    const n = asInstant(value);
    return n !== undefined && compare(n, boundInstant);
  };
}

/** What a condition says, for the reason a record was dropped. */
export function describeCondition(condition: Condition): string {
  if (Array.isArray(condition.all)) return `all of (${(condition.all as Condition[]).map(describeCondition).join('; ')})`;
  if (Array.isArray(condition.any)) return `any of (${(condition.any as Condition[]).map(describeCondition).join('; ')})`;
  if (condition.not !== undefined) return `not (${describeCondition(condition.not as Condition)})`;
  const tests = TESTS.filter((t) => condition[t] !== undefined).map((t) => `${t} ${show(condition[t])}`);
  return `${String(condition.field)} ${tests.join(' and ')}`;
}

/**
 * Compiles a condition; every problem goes into `problems` as `<pointer>: <why>`
 * (pointer relative to the filter's `with`), and the result is only usable when
 * there are none.
 */
export function compileCondition(condition: unknown, problems: string[], at = ''): Predicate {
  const never: Predicate = () => false;
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) {
    problems.push(`${at}: a condition must be an object such as {"field": "parameters.agentId", "equals": "alice"}, {"all": […]}, {"any": […]} or {"not": {…}}, got ${show(condition)}`);
    return never;
  }
  const c = condition as Condition;
  const keys = Object.keys(c);
  for (const key of keys) {
    if (!KEYS.includes(key)) {
      problems.push(`${at}/${key}: unknown test "${key}"${didYouMean(key, KEYS)} (tests: ${TESTS.join(', ')}; combinators: ${COMBINATORS.join(', ')})`);
    }
  }
  const combinators = COMBINATORS.filter((k) => k in c);
  if (combinators.length > 0) {
    if (combinators.length > 1 || 'field' in c || TESTS.some((t) => t in c)) {
      problems.push(`${at}: "${combinators[0]}" must be alone in its condition; nest the others inside it (got ${keys.join(', ')})`);
      return never;
    }
    const op = combinators[0]!;
    if (op === 'not') {
      const inner = compileCondition(c.not, problems, `${at}/not`);
      return (record) => !inner(record);
    }
    const list = c[op];
    if (!Array.isArray(list)) {
      problems.push(`${at}/${op}: must be an array of conditions, got ${show(list)}`);
      return never;
    }
    const inner = list.map((item, i) => compileCondition(item, problems, `${at}/${op}/${i}`));
    return op === 'all' ? (record) => inner.every((p) => p(record)) : (record) => inner.some((p) => p(record));
  }

  const pathProblem = 'field' in c ? checkPath(c.field) : 'is missing: a condition names a field, or is all / any / not';
  if (pathProblem) {
    problems.push(`${at}/field: ${pathProblem}`);
    return never;
  }
  const path = parsePath(c.field as string) as FieldPath;
  const given = TESTS.filter((t) => c[t] !== undefined);
  if (given.length === 0) {
    problems.push(`${at}: the condition on ${String(c.field)} has no test; give one of ${TESTS.join(', ')}`);
    return never;
  }
  const valueTests: Array<(value: unknown) => boolean> = [];
  let exists: boolean | undefined;
  for (const test of given) {
    const operand = c[test];
    const where = `${at}/${test}`;
    switch (test) {
      case 'equals':
        valueTests.push(equalsTest(operand));
        break;
      case 'oneOf': {
        if (!Array.isArray(operand)) {
          problems.push(`${where}: must be an array of values, got ${show(operand)}`);
          break;
        }
        const each = operand.map(equalsTest);
        valueTests.push((value) => each.some((t) => t(value)));
        break;
      }
      case 'regex': {
        if (typeof operand !== 'string') {
          problems.push(`${where}: must be a string (a regular expression), got ${show(operand)}`);
          break;
        }
        let re: RegExp;
        try {
          re = compileRegex(operand);
        } catch (err) {
          problems.push(`${where}: ${show(operand)} is not a valid regular expression (${(err as Error).message})`);
          break;
        }
        valueTests.push((value) => (typeof value === 'string' || typeof value === 'number') && re.test(String(value)));
        break;
      }
      case 'exists':
        if (typeof operand !== 'boolean') problems.push(`${where}: must be true or false, got ${show(operand)}`);
        else exists = operand;
        break;
      default: {
        const compiled = orderTest(test, operand);
        if (typeof compiled === 'string') problems.push(`${where}: ${compiled}`);
        else valueTests.push(compiled);
      }
    }
  }

  return (record) => {
    // null counts as absent: GWS sends `"agentId": null` for "no agent".
    const values = recordValues(record, path).filter((v) => v !== null);
    if (exists !== undefined && (values.length > 0) !== exists) return false;
    if (valueTests.length === 0) return true;
    const all = candidates(values);
    return valueTests.every((test) => all.some(test));
  };
}

const conditionSchema = {
  type: 'object',
  description: 'a condition: {"field", and one or more tests} or {"all": [...]} / {"any": [...]} / {"not": {...}}',
};

export default defineComponent<Condition>({
  kind: 'transform',
  name: 'filter',
  description: 'Keeps the records a condition on their fields holds for (equals, oneOf, regex, gt/gte/lt/lte on numbers and times, exists; all/any/not); drops the others with the reason.',
  options: {
    type: 'object',
    properties: {
      field: { type: 'string', description: 'dot path of the field tested (parameters.agentId; mediaFiles.type: any media file; @path, @status: the outcome)' },
      equals: { description: 'the value equals this (a numeric string equals its number)' },
      oneOf: { type: 'array', description: 'the value equals one of these' },
      regex: { type: 'string', description: 'a regular expression found in the value (JavaScript syntax; a leading (?i) ignores case)' },
      gt: { type: ['number', 'string'], description: 'greater than a number, or later than a time (GWS, ISO-8601 or epoch ms)' },
      gte: { type: ['number', 'string'], description: 'greater than or equal to a number, or not earlier than a time' },
      lt: { type: ['number', 'string'], description: 'less than a number, or earlier than a time' },
      lte: { type: ['number', 'string'], description: 'less than or equal to a number, or not later than a time' },
      exists: { type: 'boolean', description: 'the field is present and not null (true), or absent or null (false)' },
      all: { type: 'array', items: conditionSchema, description: 'every condition holds' },
      any: { type: 'array', items: conditionSchema, description: 'at least one condition holds' },
      not: { ...conditionSchema, description: 'the condition does not hold' },
    },
    additionalProperties: false,
  },
  example: {
    says: 'keeps the calls taken by either of two agents, with an MP3 of more than 400000 bytes, started on 1 December 2026 (UTC), that are not screen recordings.',
    with: {
      all: [
        { field: 'mediaFiles.parameters.agentId', oneOf: ['+14165550100', '+14165550101'] },
        { field: 'mediaFiles.type', regex: '^audio/mp3$' },
        { field: 'mediaFiles.size', gt: 400000 },
        { field: 'startTime', gte: '2026-12-01', lt: '2026-12-02T00:00:00.000+0000' },
        { not: { field: 'callRecordingId', exists: true } },
      ],
    },
  },
  check(options) {
    const problems: string[] = [];
    compileCondition(options, problems);
    return problems;
  },
  create(options, context, self) {
    const problems: string[] = [];
    const holds = compileCondition(options, problems);
    // The loader has run check(); this guards a direct create() (tests, embedding).
    if (problems.length > 0) throw new RcbsError('RCBS_PIPELINE_INVALID', `filter: ${problems.join('; ')}`, { problems });
    const reason = `does not match the filter: ${describeCondition(options)}`;
    let kept = 0;
    let dropped = 0;
    return (records) =>
      keepWhere(
        records,
        (record) => {
          if (holds(record)) {
            kept++;
            return true;
          }
          dropped++;
          self.drop(record, { kind: 'filtered', message: reason });
          context.log.debug('record dropped', { recordingId: recordingId(record.recording) ?? '(no id)', reason });
          return false;
        },
        () => context.log.info(`filter: kept ${kept}, dropped ${dropped} (${reason.replace(/^does not match the filter: /, '')})`),
      );
  },
});
