// Independent Parquet reader for the tests (hyparquet, not DuckDB).
// Usage: node read_parquet.mjs FILE...  → one JSON line per file:
//   {"file": ..., "num_rows": N (from the footer), "columns": [names], "rows": [[...], ...]}
import { readFileSync } from 'node:fs'
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

const plain = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? Number(x) : x)))

for (const path of process.argv.slice(2)) {
  const buf = readFileSync(path)
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const metadata = parquetMetadata(file)
  const columns = parquetSchema(metadata).children.map((c) => c.element.name)
  const objects = await parquetReadObjects({ file, compressors })
  const rows = objects.map((o) => columns.map((c) => plain(o[c])))
  process.stdout.write(JSON.stringify({ file: path, num_rows: Number(metadata.num_rows), columns, rows }) + '\n')
}
