// Images: the images of a folder with their chains (full, then incrementals), and a file browser into an image
// (mounted read-only by the backend for each listing; the image is never written).
import { useState } from 'preact/hooks';
import { DataTable } from './data-table.js';
import { formatBytes } from './format.js';
import { useCommandData } from './use-command-data.js';

interface ImageList {
  dir: string;
  images: Record<string, unknown>[];
  chains: string[][];
}

interface Entry {
  name: string;
  type: string;
  sizeBytes: number;
  modified: string;
}

export function ImagesScreen() {
  const [dir, setDir] = useState('');
  const [shown, setShown] = useState<string | null>(null);
  const [image, setImage] = useState<string | null>(null);
  const list = useCommandData<ImageList>(shown === null ? null : 'image list', shown ? [shown] : []);
  return (
    <div class="images-screen">
      <form class="wizard inline" aria-label="Image folder" onSubmit={(e) => { e.preventDefault(); setShown(dir); setImage(null); }}>
        <label>Folder of images<input name="dir" value={dir} onInput={(e) => setDir((e.target as HTMLInputElement).value)} placeholder="/var/backups" /></label>
        <div class="actions"><button class="primary" type="submit" disabled={dir === ''}>List images</button></div>
      </form>
      {list.error && <p class="error">{list.error}</p>}
      {list.data && (
        <>
          <h3>Chains</h3>
          {list.data.chains.length === 0 ? <p class="muted">No images.</p> : (
            <ul class="chains" aria-label="Image chains">
              {list.data.chains.map((chain) => (
                <li key={chain[0]}>{chain.map((name, i) => (
                  <span key={name}>{i > 0 && ' → '}<button class="link" onClick={() => setImage(`${list.data!.dir}/${name}`)}>{name}</button></span>
                ))}</li>
              ))}
            </ul>
          )}
          <h3>Images</h3>
          <DataTable rows={list.data.images} label="Images" />
        </>
      )}
      {image && <ImageBrowser key={image} image={image} />}
    </div>
  );
}

function ImageBrowser({ image }: { image: string }) {
  const [path, setPath] = useState('/');
  const listing = useCommandData<{ entries: Entry[] }>('image ls', [image, path]);
  const enter = (entry: Entry) => entry.type === 'directory' && setPath(`${path.replace(/\/$/, '')}/${entry.name}`);
  return (
    <section class="view" aria-label={`Files in ${image}`}>
      <h2>{image} <span class="muted">{path}</span></h2>
      <div class="toolbar"><button disabled={path === '/'} onClick={() => setPath(path.replace(/\/[^/]+\/?$/, '') || '/')}>Up</button></div>
      {listing.loading && <p class="muted">Mounting the image read-only…</p>}
      {listing.error && <p class="error">{listing.error}</p>}
      {listing.data && (
        <table class="data" aria-label="Files">
          <thead><tr><th>Name</th><th>Type</th><th>Size</th><th>Modified</th></tr></thead>
          <tbody>{listing.data.entries.map((e) => (
            <tr key={e.name} onClick={() => enter(e)} class={e.type === 'directory' ? 'dir' : ''}>
              <td>{e.name}{e.type === 'directory' ? '/' : ''}</td><td>{e.type}</td><td class="num">{formatBytes(e.sizeBytes)}</td><td>{e.modified.slice(0, 19).replace('T', ' ')}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}
