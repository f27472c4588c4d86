// The web UI's backend server: token-guarded HTTP and JSON-RPC over WebSocket on 127.0.0.1.
export { WebServer, checkUiRoot, type WebServerOptions } from './web-server.js';
export type { BackendApi, KeybindingInfo, SettingInfo, ViewInfo } from './backend-api.js';
export { readLiveServerRecord, removeServerRecord, serverFilePath, writeServerRecord, type ServerRecord } from './server-file.js';
export { TOKEN_COOKIE } from './session-token.js';
