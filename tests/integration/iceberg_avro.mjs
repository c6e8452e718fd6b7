// The Iceberg spec's v2 Avro schemas for manifests and manifest lists
// (iceberg-table-spec.md, "Manifests"), written from the spec, not from
// tidewatch's C code, and an avsc decoder for Avro container files: shared
// by the Iceberg reader tests.
import avro from 'avsc';

// ---- the spec's v2 Avro schemas (iceberg-table-spec.md, Manifests) ----
export const opt = (name, type, id) => ({ name, type: ['null', type], default: null, 'field-id': id });
const req = (name, type, id) => ({ name, type, 'field-id': id });
const map = (k, kt, v, vt) => ({ type: 'array', logicalType: 'map', items: { type: 'record', name: `k${k}_v${v}`,
  fields: [req('key', kt, k), req('value', vt, v)] } });
const list = (items, id) => ({ type: 'array', items, 'element-id': id });
export const partitionAvro = {
  boolean: 'boolean', int: 'int', long: 'long', float: 'float', double: 'double', string: 'string',
  date: { type: 'int', logicalType: 'date' },
  timestamp: { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false },
  timestamptz: { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true },
};
export function resultType(transform, sourceType) {
  if (transform === 'identity' || transform.startsWith('truncate')) return sourceType;
  if (transform === 'day') return 'date';
  return 'int';
}
export function manifestEntrySchema(partitionFields) {
  return {
    type: 'record', name: 'manifest_entry', fields: [
      req('status', 'int', 0), opt('snapshot_id', 'long', 1), opt('sequence_number', 'long', 3),
      opt('file_sequence_number', 'long', 4),
      req('data_file', { type: 'record', name: 'r2', fields: [
        req('content', 'int', 134), req('file_path', 'string', 100), req('file_format', 'string', 101),
        req('partition', { type: 'record', name: 'r102', fields: partitionFields }, 102),
        req('record_count', 'long', 103), req('file_size_in_bytes', 'long', 104),
        opt('column_sizes', map(117, 'int', 118, 'long'), 108), opt('value_counts', map(119, 'int', 120, 'long'), 109),
        opt('null_value_counts', map(121, 'int', 122, 'long'), 110), opt('nan_value_counts', map(138, 'int', 139, 'long'), 137),
        opt('lower_bounds', map(126, 'int', 127, 'bytes'), 125), opt('upper_bounds', map(129, 'int', 130, 'bytes'), 128),
        opt('key_metadata', 'bytes', 131), opt('split_offsets', list('long', 133), 132),
        opt('equality_ids', list('int', 136), 135), opt('sort_order_id', 'int', 140),
      ] }, 2),
    ],
  };
}
export const manifestFileSchema = {
  type: 'record', name: 'manifest_file', fields: [
    req('manifest_path', 'string', 500), req('manifest_length', 'long', 501), req('partition_spec_id', 'int', 502),
    req('content', 'int', 517), req('sequence_number', 'long', 515), req('min_sequence_number', 'long', 516),
    req('added_snapshot_id', 'long', 503), req('added_files_count', 'int', 504), req('existing_files_count', 'int', 505),
    req('deleted_files_count', 'int', 506), req('added_rows_count', 'long', 512), req('existing_rows_count', 'long', 513),
    req('deleted_rows_count', 'long', 514),
    opt('partitions', list({ type: 'record', name: 'r508', fields: [req('contains_null', 'boolean', 509),
      opt('contains_nan', 'boolean', 518), opt('lower_bound', 'bytes', 510), opt('upper_bound', 'bytes', 511)] }, 508), 507),
    opt('key_metadata', 'bytes', 519),
  ],
};
const longType = avro.types.LongType.__with({
  fromBuffer: (b) => b.readBigInt64LE(), toBuffer: (n) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b; },
  fromJSON: BigInt, toJSON: Number, isValid: (n) => typeof n === 'bigint', compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
});
const avroOpts = () => ({ registry: { long: longType }, wrapUnions: false });

// Decodes an Avro container file with the reader schema; returns header and records.
export function decodeAvro(path, readerSchema) {
  return new Promise((resolve, reject) => {
    const records = [];
    let header = null;
    const readerType = avro.Type.forSchema(readerSchema, avroOpts());
    avro.createFileDecoder(path, {
      readerSchema: readerType,
      parseHook: (schema) => avro.Type.forSchema(schema, avroOpts()),
    })
      .on('metadata', (type, codec, h) => { header = { type, codec, meta: h.meta }; })
      .on('data', (r) => records.push(r))
      .on('error', reject)
      .on('end', () => resolve({ header, records }));
  });
}
