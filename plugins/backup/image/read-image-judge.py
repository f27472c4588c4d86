# An independent reader of unencrypted Shadowdisk images written from docs/image-format.md alone (stdlib only, so raw chunks
# only: Python has no zstd here). Prints JSON: the manifest and each chunk's stream, offset and SHA-256; exits 1 on any mismatch.
import hashlib, json, struct, sys, zlib

def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)

data = open(sys.argv[1], 'rb').read()
if data[0:8] != b'SHDWIMG1' or struct.unpack_from('<HH', data, 8) != (1, 256): fail('bad magic or version')
if hashlib.sha256(data[0:224]).digest() != data[224:256]: fail('header sha')
flags, = struct.unpack_from('<I', data, 12)
if flags & 2: fail('encrypted images are out of scope for this judge')
chunk_size, = struct.unpack_from('<I', data, 40)
stored_len, plain_len = struct.unpack_from('<QQ', data, 128)
if data[144] != 0: fail('judge needs a raw manifest (compression level 0)')
manifest = data[256:256 + stored_len]
if len(manifest) != plain_len or hashlib.sha256(manifest).digest() != data[160:192]: fail('manifest sha')
footer = data[-48:]
if footer[40:48] != b'SHDWEND1' or zlib.crc32(footer[0:32]) != struct.unpack_from('<I', footer, 32)[0]: fail('footer')
if footer[16:32] != data[16:32]: fail('footer image id')
trailer_offset, trailer_len = struct.unpack_from('<QQ', footer, 0)
if trailer_offset + trailer_len + 48 != len(data): fail('footer bounds')
trailer = data[trailer_offset:trailer_offset + trailer_len]
if trailer[0:4] != b'SDTR' or hashlib.sha256(trailer[:-32]).digest() != trailer[-32:]: fail('trailer digest')
entry_size, count, total = struct.unpack_from('<IQQ', trailer, 4)
if entry_size != 64 or trailer_len != 88 + 64 * count + 32: fail('trailer size')
if hashlib.sha256(data[0:trailer_offset]).digest() != trailer[24:56]: fail('image digest')
if trailer[56:88] != data[160:192]: fail('trailer manifest sha')
chunks, expected_offset = [], 256 + stored_len
for i in range(count):
    e = 88 + 64 * i
    file_offset, stored, kind, rflags = struct.unpack_from('<QIBB', trailer, e)
    offset_bytes, stream, plain = struct.unpack_from('<QII', trailer, e + 16)
    sha = trailer[e + 32:e + 64]
    if file_offset != expected_offset: fail('record position')
    rec = data[file_offset:file_offset + 80]
    if rec[0:4] != b'SDCK' or zlib.crc32(rec[0:76]) != struct.unpack_from('<I', rec, 76)[0]: fail('record header')
    if struct.unpack_from('<BBxxQQIII', rec, 4) != (kind, rflags, i, offset_bytes, stream, plain, stored) or rec[40:72] != sha: fail('record vs index')
    payload = data[file_offset + 80:file_offset + 80 + stored]
    if kind == 0: plain_bytes = bytes(plain)
    elif kind == 1: plain_bytes = payload
    else: fail('judge cannot decompress zstd')
    if len(plain_bytes) != plain or hashlib.sha256(plain_bytes).digest() != sha: fail('chunk sha')
    chunks.append({'stream': stream, 'offset': offset_bytes, 'sha256': sha.hex()})
    expected_offset = file_offset + 80 + stored
if expected_offset != trailer_offset: fail('records end')
print(json.dumps({'manifest': json.loads(manifest.decode('utf-8')), 'chunks': chunks, 'totalPlainBytes': total}))
