// The `s3` repository kind: any S3-compatible store through the AWS SDK v3. Uploads go through lib-storage (multipart
// above 8 MiB, parts in parallel), every request is retried with exponential backoff, reads stream with Range.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ShadowError } from '../../../sdk/index.js';
import { objectMissing, type ObjectStore, type StoredObject } from './object-store.js';

export interface S3Location {
  bucket: string;
  prefix: string;
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Settings profile `backup.s3Profiles.NAME` (endpoint, region, accessKeyId, secretAccessKey), or the environment. */
export function s3Location(url: URL, settings: (key: string) => unknown): S3Location {
  const bucket = url.hostname;
  if (!bucket) throw new ShadowError('INVALID_ARGUMENT', `Repository URL '${url.href}' names no bucket; write s3://BUCKET/PREFIX`);
  const prefix = decodeURIComponent(url.pathname.replace(/^\/+/, '').replace(/\/+$/, ''));
  const profileName = url.searchParams.get('profile') ?? process.env['SHADOWDISK_S3_PROFILE'];
  const profiles = (settings('backup.s3Profiles') ?? {}) as Record<string, Partial<S3Location & { accessKeyId: string; secretAccessKey: string }>>;
  const profile = profileName ? profiles[profileName] : undefined;
  if (profileName && !profile) throw new ShadowError('SETTING_INVALID', `No S3 profile '${profileName}' in the setting backup.s3Profiles (have: ${Object.keys(profiles).join(', ') || 'none'})`);
  const env = process.env;
  const endpoint = profile?.endpoint ?? env['SHADOWDISK_S3_ENDPOINT'] ?? env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'];
  const accessKeyId = profile?.accessKeyId ?? env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = profile?.secretAccessKey ?? env['AWS_SECRET_ACCESS_KEY'];
  return {
    bucket, prefix, region: profile?.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
}

const PART_BYTES = 8 * 1024 * 1024;
/**
 * Objects up to this size (every pack: 16 MiB at most) go up in one PUT: a multipart upload's five requests cost the
 * gateway more than the upload itself (Ceph RGW on 127.0.0.1: a 16 MiB pack took about twice as long in parts).
 */
const SINGLE_PUT_BYTES = 64 * 1024 * 1024;

export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;

  constructor(private readonly location: S3Location) {
    const config: S3ClientConfig = {
      region: location.region,
      // Exponential backoff with jitter, and client-side rate adaptation when the store throttles.
      maxAttempts: 8,
      retryMode: 'adaptive',
      // Objects are sealed (AES-GCM) and packs named by their SHA-256, which reads check; a CRC32 of every upload on top
      // costs CPU the backup needs. SigV4 still signs each payload's SHA-256.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      ...(location.endpoint ? { endpoint: location.endpoint, forcePathStyle: true } : {}),
      ...(location.credentials ? { credentials: location.credentials } : {}),
    };
    this.client = new S3Client(config);
  }

  get url(): string {
    return `s3://${this.location.bucket}/${this.location.prefix}`;
  }

  private key(key: string): string {
    return this.location.prefix ? `${this.location.prefix}/${key}` : key;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    if (data.length <= SINGLE_PUT_BYTES) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: this.key(key), Body: data }));
        return;
      } catch (error) {
        throw this.failure(`upload '${key}'`, error);
      }
    }
    const upload = new Upload({ client: this.client, params: { Bucket: this.location.bucket, Key: this.key(key), Body: data }, partSize: PART_BYTES, queueSize: 4, leavePartsOnError: false });
    await upload.done().catch((error: unknown) => {
      throw this.failure(`upload '${key}'`, error);
    });
  }

  /** S3 gives no atomic create-if-absent everywhere (RGW 16 ignores If-None-Match): used only for one-off objects such as the config at init. */
  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.key(key) }));
      return false;
    } catch (error) {
      if (!isMissing(error)) throw this.failure(`look up '${key}'`, error);
    }
    await this.put(key, data);
    return true;
  }

  async get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.key(key), ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}) }));
      const chunks: Uint8Array[] = [];
      for await (const chunk of answer.Body as AsyncIterable<Uint8Array>) chunks.push(chunk);
      const data = Buffer.concat(chunks);
      if (range && data.length !== range.length) throw new ShadowError('IMAGE_CORRUPT', `Object '${key}' of ${this.url} ends before byte ${range.offset + range.length}`, { details: { object: key } });
      return data;
    } catch (error) {
      if (isMissing(error)) throw objectMissing(this.url, key, error);
      throw this.failure(`read '${key}'`, error);
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let token: string | undefined;
    const strip = this.location.prefix ? this.location.prefix.length + 1 : 0;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: this.key(prefix), ...(token ? { ContinuationToken: token } : {}) })).catch((error: unknown) => {
        throw this.failure(`list '${prefix}'`, error);
      });
      for (const o of page.Contents ?? []) out.push({ key: o.Key!.slice(strip), sizeBytes: o.Size ?? 0, modified: o.LastModified ?? new Date(0) });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.key(key) })).catch((error: unknown) => {
      throw this.failure(`delete '${key}'`, error);
    });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private failure(what: string, error: unknown): ShadowError {
    if (error instanceof ShadowError) return error;
    const name = (error as { name?: string }).name ?? 'Error';
    const code = name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' ? 'PERMISSION_DENIED' : name === 'NoSuchBucket' ? 'NOT_FOUND' : 'IO_ERROR';
    return new ShadowError(code, `Cannot ${what} in ${this.url}: ${name}: ${(error as Error).message}`, { cause: error });
  }
}

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket';
}
