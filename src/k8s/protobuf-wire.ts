/**
 * The little of the protobuf wire format (protobuf.dev "Encoding") that the kubelet's PodResources
 * messages need: strings and embedded messages to write, and a bounded reader that walks the
 * fields of a message and skips what it does not know. No schema, no reflection, no dependency.
 */

export const WireType = { Varint: 0, Fixed64: 1, Length: 2, Fixed32: 5 } as const;

export class ProtobufError extends Error {
  constructor(reason: string) {
    super(`malformed protobuf message: ${reason}`);
    this.name = 'ProtobufError';
  }
}

/** One field as found on the wire; `bytes` is set for length-delimited fields. */
export interface WireField {
  field: number;
  wire: number;
  bytes?: Uint8Array;
}

function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtobufError('truncated varint');
    const b = buf[pos++]!;
    // Multiplication, not shifts: values above 2^31 stay exact up to 2^53 (larger ones only skipped).
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return [value, pos];
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

/** The fields of one message, in wire order (repeated fields appear once per element). */
export function* readFields(buf: Uint8Array): Generator<WireField> {
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new ProtobufError('field number 0');
    pos = afterKey;
    switch (wire) {
      case WireType.Varint:
        pos = readVarint(buf, pos)[1];
        yield { field, wire };
        break;
      case WireType.Fixed64:
        pos += 8;
        if (pos > buf.length) throw new ProtobufError('truncated fixed64');
        yield { field, wire };
        break;
      case WireType.Fixed32:
        pos += 4;
        if (pos > buf.length) throw new ProtobufError('truncated fixed32');
        yield { field, wire };
        break;
      case WireType.Length: {
        const [len, start] = readVarint(buf, pos);
        if (start + len > buf.length) throw new ProtobufError('length beyond the end of the message');
        pos = start + len;
        yield { field, wire, bytes: buf.subarray(start, pos) };
        break;
      }
      default:
        throw new ProtobufError(`unsupported wire type ${wire} (field ${field})`);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A `string` field's value; invalid UTF-8 is an error (proto3 strings must be valid). */
export function fieldString(f: WireField): string {
  if (f.wire !== WireType.Length || !f.bytes) throw new ProtobufError(`field ${f.field} is not a string`);
  try {
    return utf8.decode(f.bytes);
  } catch {
    throw new ProtobufError(`field ${f.field} is not valid UTF-8`);
  }
}

/** An embedded message's bytes. */
export function fieldMessage(f: WireField): Uint8Array {
  if (f.wire !== WireType.Length || !f.bytes) throw new ProtobufError(`field ${f.field} is not a message`);
  return f.bytes;
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push(v % 128 | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Writes a message of string fields (all the kubelet requests here need). */
export function encodeStrings(fields: [field: number, value: string][]): Uint8Array {
  const parts: number[] = [];
  for (const [field, value] of fields) {
    // proto3: a field holding its default value is not written.
    if (value === '') continue;
    const bytes = Buffer.from(value, 'utf8');
    parts.push(...varint(field * 8 + WireType.Length), ...varint(bytes.length), ...bytes);
  }
  return Uint8Array.from(parts);
}
