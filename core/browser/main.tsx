// Entry point: connects to the backend, loads the command list and renders the app.
import { render } from 'preact';
import { App } from './app.js';
import { RpcClient, type CommandInfo } from './rpc-client.js';

const root = document.getElementById('app')!;
try {
  const rpc = await RpcClient.connect();
  const commands = await rpc.call<CommandInfo[]>('commands.list');
  root.textContent = '';
  render(<App rpc={rpc} commands={commands} />, root);
} catch (error) {
  root.textContent = (error as Error).message;
  root.className = 'fatal';
}
