/**
 * A loopback stand-in for the Hugging Face hub (127.0.0.1, a free port), serving repositories the way the hub does:
 *   GET  /api/models/{owner}/{name}/revision/{rev}  -> { id, sha, siblings: [{ rfilename }] }
 *   HEAD|GET /{owner}/{name}/resolve/{rev}/{file}   -> the bytes, with ETag, X-Repo-Commit, Content-Length, Range
 * Gated repositories answer 401 without the right bearer token; `cut` makes the next full GET of a file stop halfway
 * (the socket destroyed). Every request is logged, so a test can assert that a run made none.
 */
import { createHash } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubRepo {
  commit: string;
  files: Record<string, Buffer>;
  /** Token required (401 without it). */
  gatedToken?: string;
}

export interface HubServer {
  url: string;
  requests: string[];
  repos: Map<string, HubRepo>;
  /** Files whose next full GET is cut halfway. */
  cut: Set<string>;
  close(): Promise<void>;
}

export const commitOf = (seed: string): string => createHash('sha1').update(seed).digest('hex');

export async function startHubServer(repos: Record<string, HubRepo>): Promise<HubServer> {
  const state = { requests: [] as string[], repos: new Map(Object.entries(repos)), cut: new Set<string>() };
  const server: Server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    state.requests.push(`${req.method} ${url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const deny = (repo: HubRepo) => repo.gatedToken !== undefined && req.headers.authorization !== `Bearer ${repo.gatedToken}`;
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(url);
    if (api) {
      const repo = state.repos.get(api[1]!);
      if (!repo || (api[2] !== 'main' && api[2] !== repo.commit)) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Repository not found"}');
      if (deny(repo)) return void res.writeHead(401).end('{"error":"Access to model is restricted"}');
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ id: api[1], sha: repo.commit, siblings: [...Object.keys(repo.files), 'README.md', 'onnx/model.onnx'].map((rfilename) => ({ rfilename })) }));
    }
    const file = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    const repo = file ? state.repos.get(file[1]!) : undefined;
    if (!file || !repo || (file[2] !== 'main' && file[2] !== repo.commit)) return void res.writeHead(404).end('Entry not found');
    if (deny(repo)) return void res.writeHead(401).end();
    const body = repo.files[file[3]!];
    if (!body) return void res.writeHead(404).end('Entry not found');
    const headers = { etag: `"${createHash('sha256').update(body).digest('hex')}"`, 'x-repo-commit': repo.commit, 'accept-ranges': 'bytes' };
    if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'content-length': body.length }).end();
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      if (start >= body.length) return void res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      res.writeHead(206, { ...headers, 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
      return void res.end(body.subarray(start));
    }
    res.writeHead(200, { ...headers, 'content-length': body.length });
    if (state.cut.delete(`${file[1]}/${file[3]}`)) {
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ...state,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
