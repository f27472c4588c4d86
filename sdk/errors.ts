// The one error class of Shadowdisk: a stable code from a closed set, and a message naming the problem, the value seen and what to do.

/** Every code a ShadowError can carry, grouped by the class that decides the CLI exit code. */
export const ERROR_CODES = {
  // usage: the caller asked for something malformed or unknown
  INVALID_ARGUMENT: 'usage',
  COMMAND_NOT_FOUND: 'usage',
  SETTING_INVALID: 'usage',
  // lookup: a named thing does not exist
  NOT_FOUND: 'notFound',
  // safety: refused to protect data
  TARGET_BUSY: 'safety',
  SIZE_MISMATCH: 'safety',
  /** The disk changed since a plan was made against it. */
  PLAN_STALE: 'safety',
  /** An earlier apply was interrupted; recover it first. */
  RECOVERY_NEEDED: 'safety',
  /** An application writer vetoed a shadow-copy set; nothing was kept. */
  WRITER_VETOED: 'safety',
  // integrity: input data is damaged or not ours
  TABLE_CORRUPT: 'integrity',
  IMAGE_CORRUPT: 'integrity',
  IMAGE_TAMPERED: 'integrity',
  WRONG_PASSPHRASE: 'integrity',
  /** An incremental image's parent is missing, is another image, or no longer fits the source. */
  PARENT_MISMATCH: 'integrity',
  // plugins
  PLUGIN_MANIFEST_INVALID: 'plugin',
  PLUGIN_ACTIVATION_VETOED: 'plugin',
  PLUGIN_ACTIVATION_FAILED: 'plugin',
  PLUGIN_NOT_FOUND: 'plugin',
  HOOK_TIMEOUT: 'plugin',
  CONTRIBUTION_NOT_FOUND: 'plugin',
  /** A plugin package file tries to write outside its folder (absolute path, `..`, escaping link) or is an archive bomb. */
  PLUGIN_ARCHIVE_UNSAFE: 'plugin',
  /** A plugin package file is not a readable .tgz/.tar package. */
  PLUGIN_ARCHIVE_INVALID: 'plugin',
  /** A plugin with that id is already installed or shipped. */
  PLUGIN_ALREADY_INSTALLED: 'plugin',
  /** The plugin's engines.shadowdisk range excludes this host. */
  PLUGIN_ENGINE_MISMATCH: 'plugin',
  /** The plugin needs a permission its manifest does not declare (native code needs `native`). */
  PLUGIN_PERMISSION_MISSING: 'plugin',
  /** An isolated plugin's process died during a call. */
  PLUGIN_CRASHED: 'plugin',
  /** The plugin is disabled (by the user, or after crashing too often). */
  PLUGIN_DISABLED: 'plugin',
  /** An isolated plugin did not answer a call in time. */
  PLUGIN_TIMEOUT: 'plugin',
  // the system said no
  IO_ERROR: 'io',
  PERMISSION_DENIED: 'io',
  UNSUPPORTED: 'io',
  // cancelled by the user or a timeout
  ABORTED: 'aborted',
  TIMEOUT: 'aborted',
  // a bug of ours
  INTERNAL: 'internal',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorClass = (typeof ERROR_CODES)[ErrorCode];

/** CLI exit code for each error class; documented in docs/cli.md. */
export const EXIT_CODES: Readonly<Record<ErrorClass, number>> = Object.freeze({
  internal: 1,
  usage: 2,
  notFound: 3,
  safety: 4,
  integrity: 5,
  plugin: 6,
  io: 7,
  aborted: 130,
});

export interface ShadowErrorJson {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class ShadowError extends Error {
  override readonly name = 'ShadowError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!(code in ERROR_CODES)) throw new TypeError(`Unknown error code '${code}'`);
    this.code = code;
    this.details = options.details;
  }

  get errorClass(): ErrorClass {
    return ERROR_CODES[this.code];
  }

  get exitCode(): number {
    return EXIT_CODES[this.errorClass];
  }

  toJSON(): ShadowErrorJson {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }

  /** Wraps anything thrown into a ShadowError, keeping ShadowErrors as they are. */
  static from(error: unknown, fallback: ErrorCode = 'INTERNAL'): ShadowError {
    if (error instanceof ShadowError) return error;
    if (isAbortError(error)) return new ShadowError('ABORTED', 'The operation was cancelled', { cause: error });
    const message = error instanceof Error ? error.message : String(error);
    return new ShadowError(fallback, message, { cause: error });
  }
}

export function isShadowError(error: unknown, code?: ErrorCode): error is ShadowError {
  return error instanceof ShadowError && (code === undefined || error.code === code);
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || (error as { code?: unknown }).code === 'ABORT_ERR');
}
