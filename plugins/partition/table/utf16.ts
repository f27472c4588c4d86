// The GPT partition name field: 36 UTF-16LE code units, NUL-terminated unless full; non-BMP characters as surrogate pairs.
import { ShadowError } from '../../../sdk/index.js';

export const NAME_FIELD_BYTES = 72;
export const NAME_MAX_UNITS = NAME_FIELD_BYTES / 2;

/** The name up to the first NUL code unit. Unpaired surrogates decode to U+FFFD, as TextDecoder does. */
export function decodeGptName(field: Uint8Array): string {
  let units = 0;
  while (units < NAME_MAX_UNITS && units * 2 + 1 < field.length && (field[units * 2]! | field[units * 2 + 1]!) !== 0) units++;
  return new TextDecoder('utf-16le').decode(field.subarray(0, units * 2));
}

/** Code units `name` takes in the field (non-BMP characters take two). */
export function gptNameUnits(name: string): number {
  return name.length;
}

/**
 * The 72-byte field for `name`. When `base` (the field as read) already decodes to `name`, it is returned as is, so
 * bytes after the terminating NUL survive a round trip; otherwise the field is written fresh and zero-padded.
 */
export function encodeGptName(name: string, base?: Uint8Array): Uint8Array {
  if (base && base.length === NAME_FIELD_BYTES && decodeGptName(base) === name) return base.slice();
  if (name.length > NAME_MAX_UNITS) {
    throw new ShadowError('INVALID_ARGUMENT', `Partition name '${name}' takes ${name.length} UTF-16 code units, at most ${NAME_MAX_UNITS} fit in a GPT entry; use a shorter name`);
  }
  if (name.includes('\0')) throw new ShadowError('INVALID_ARGUMENT', `Partition name '${name.replaceAll('\0', '\\0')}' contains a NUL character; GPT names end at the first NUL, remove it`);
  const field = new Uint8Array(NAME_FIELD_BYTES);
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    field[i * 2] = unit & 0xff;
    field[i * 2 + 1] = unit >> 8;
  }
  return field;
}
