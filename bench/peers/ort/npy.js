// Minimal .npy (format 1.0/2.0/3.0) reader and writer for the dtypes the peer models use.
'use strict';
const fs = require('fs');

const DTYPES = {
  '<f4': {type: 'float32', ctor: Float32Array},
  '<f8': {type: 'float64', ctor: Float64Array},
  '<i8': {type: 'int64', ctor: BigInt64Array},
  '<i4': {type: 'int32', ctor: Int32Array},
  '|u1': {type: 'uint8', ctor: Uint8Array},
  '|b1': {type: 'bool', ctor: Uint8Array},
};

// Returns {type, dims, data} with data a typed array over a fresh, aligned copy of the payload.
function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') {
    throw new Error(`${path}: not a .npy file (bad magic)`);
  }
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shape) throw new Error(`${path}: malformed .npy header: ${header}`);
  if (order[1] === 'True') throw new Error(`${path}: Fortran-order arrays are not supported`);
  const dt = DTYPES[descr[1]];
  if (!dt) throw new Error(`${path}: dtype ${descr[1]} not supported (have ${Object.keys(DTYPES).join(', ')})`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const bytes = count * dt.ctor.BYTES_PER_ELEMENT;
  if (buf.length - offset < bytes) throw new Error(`${path}: payload has ${buf.length - offset} bytes, shape needs ${bytes}`);
  const data = new dt.ctor(count);
  new Uint8Array(data.buffer).set(buf.subarray(offset, offset + bytes));
  return {type: dt.type, dims, data};
}

// Writes a float32 (or any DTYPES) typed array as .npy version 1.0.
function writeNpy(path, data, dims) {
  const descr = Object.keys(DTYPES).find((k) => data instanceof DTYPES[k].ctor && k !== '|b1');
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  fs.writeFileSync(path, Buffer.concat([pre, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

module.exports = {readNpy, writeNpy};
