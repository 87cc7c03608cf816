/**
 * Plain records ⇄ Arrow record batches, against one fixed schema.
 *
 * `recordsToBatch` builds every column with a typed builder for its declared type, so
 * batches from separate calls share one schema and can be appended to one stream.
 * `batchToRecords` turns rows back into plain JS values (lists become arrays, 64-bit
 * integers become numbers when they fit).
 */
import {
  makeBuilder,
  makeData,
  RecordBatch,
  Struct,
  Type,
  type Data,
  type DataType,
  type Field,
  type Schema,
  type Vector,
} from 'apache-arrow';

/** A schema mismatch: a missing column, or a column of the wrong type. */
export class SchemaMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaMismatchError';
  }
}

/** Builds one record batch of `records` with exactly `schema`. */
export function recordsToBatch(schema: Schema, records: readonly object[]): RecordBatch {
  const children: Data[] = (schema.fields).map((f) => {
    const type: DataType = f.type as DataType;
    const builder = makeBuilder({ type, nullValues: [null, undefined] });
    for (const [i, r] of records.entries()) {
      const v = (r as Record<string, unknown>)[f.name];
      if ((v === null || v === undefined) && !f.nullable) {
        throw new SchemaMismatchError(`record ${i}: column '${f.name}' is ${String(v)} but is not nullable`);
      }
      builder.append(v);
    }
    return builder.finish().flush() as Data;
  });
  const data = makeData({ type: new Struct(schema.fields), length: records.length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** Converts one Arrow value to a plain JS value. */
function toPlain(value: unknown, type: DataType): unknown {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const child = (type.children[0] as Field).type as DataType;
      return Array.from(value as Vector, (v) => toPlain(v, child));
    }
    case Type.Struct: {
      const out: Record<string, unknown> = {};
      for (const f of type.children) out[f.name] = toPlain((value as Record<string, unknown>)[f.name], f.type as DataType);
      return out;
    }
    case Type.Int:
      return typeof value === 'bigint' ? bigToNumber(value) : value;
    default:
      return typeof value === 'bigint' ? bigToNumber(value) : value;
  }
}

function bigToNumber(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** The rows of a batch as plain objects keyed by column name. */
export function batchToRecords<R = Record<string, unknown>>(batch: RecordBatch): R[] {
  const fields = batch.schema.fields;
  const columns = fields.map((_, i) => batch.getChildAt(i));
  const out: R[] = new Array<R>(batch.numRows);
  for (let r = 0; r < batch.numRows; r++) {
    const row: Record<string, unknown> = {};
    fields.forEach((f, c) => {
      row[f.name] = toPlain(columns[c]?.get(r), f.type as DataType);
    });
    out[r] = row as R;
  }
  return out;
}

/** Arrow's own type name, e.g. "List<Utf8>". */
// eslint-disable-next-line @typescript-eslint/no-base-to-string -- every DataType implements toString
const typeName = (t: DataType): string => String(t);

/** A type's family, so Utf8 and LargeUtf8, or Int32 and Int64, count as compatible. */
function family(t: DataType): string {
  switch (t.typeId) {
    case Type.Utf8:
    case Type.LargeUtf8:
      return 'string';
    case Type.Int:
      return 'int';
    case Type.Float:
      return 'float';
    case Type.Bool:
      return 'bool';
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList:
      return `list<${family((t.children[0] as Field).type as DataType)}>`;
    default:
      return typeName(t);
  }
}

/**
 * Checks that `actual` has every column of `expected` with a compatible type. Extra
 * columns are allowed. Throws `SchemaMismatchError` naming the column, both types
 * and the file.
 */
export function checkSchema(actual: Schema, expected: Schema, where: string): void {
  for (const f of expected.fields) {
    const got = (actual.fields).find((g) => g.name === f.name);
    if (!got) {
      throw new SchemaMismatchError(
        `${where}: column '${f.name}' is missing (found: ${actual.fields.map((g) => g.name).join(', ') || 'no columns'})`,
      );
    }
    const [want, have] = [f.type as DataType, got.type as DataType];
    if (family(have) !== family(want)) {
      throw new SchemaMismatchError(`${where}: column '${f.name}' has type ${typeName(have)}, expected ${typeName(want)}`);
    }
  }
}
