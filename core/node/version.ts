// The host's own version, checked against plugins' engines.shadowdisk ranges.
export const HOST_VERSION = '0.1.0';
