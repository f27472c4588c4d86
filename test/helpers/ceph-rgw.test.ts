import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cephRgw } from './ceph-rgw.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('Ceph RGW test helper', () => {
  it('serves S3 on 127.0.0.1 with a user and a bucket, and stops exactly the daemons it started', async () => {
    let pids: readonly number[] = [];
    {
      await using rgw = await cephRgw();
      pids = rgw.pids;
      expect(pids).toHaveLength(3);
      expect(pids.every(alive)).toBe(true);
      const client = new S3Client({ endpoint: rgw.endpoint, region: rgw.region, forcePathStyle: true, credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey } });
      const body = randomBytes(3 * 1024 * 1024 + 17);
      await client.send(new PutObjectCommand({ Bucket: rgw.bucket, Key: 'a/b', Body: body }));
      const got = await client.send(new GetObjectCommand({ Bucket: rgw.bucket, Key: 'a/b' }));
      const back = Buffer.from(await got.Body!.transformToByteArray());
      expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
      // A wrong secret is refused: the endpoint really authenticates.
      const wrong = new S3Client({ endpoint: rgw.endpoint, region: rgw.region, forcePathStyle: true, credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: 'x'.repeat(40) } });
      await expect(wrong.send(new GetObjectCommand({ Bucket: rgw.bucket, Key: 'a/b' }))).rejects.toThrow();
      client.destroy();
      wrong.destroy();
    }
    expect(pids.some(alive)).toBe(false);
  }, 180_000);
});
