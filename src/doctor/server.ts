/**
 * `doctor --url URL`: is an OpenAI-compatible server ready to be benchmarked? One finding per line: reachable
 * (GET /models answers), models listed (and the named one among them), streaming works (one short streamed request
 * through the openai engine, as a run sends it) and usage reported (output and prompt tokens counted by the server;
 * without them output tokens are counted from the stream's chunks and prompt tokens are unknown).
 */
import type { HttpSideInput } from '../config/http.js';
import { createOpenAIEngine } from '../engines/openai/engine.js';
import { causeOf, redact } from '../engines/openai/redact.js';
import type { CheckResult } from './checks.js';

export interface ServerCheckOptions {
  url: string;
  /** Model name to send; default the first model the server lists. */
  model?: string;
  endpoint?: HttpSideInput['endpoint'];
  /** NAME of the environment variable holding the API key. */
  apiKeyEnv?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** GET {base}/models; the base gets /v1 when it is a bare origin, as the engine's endpoints do. */
function modelsUrl(base: string): string {
  const u = new URL(base);
  const path = u.pathname.replace(/\/+$/, '') || '/v1';
  u.pathname = `${path}/models`;
  return u.toString();
}

export async function checkServer(o: ServerCheckOptions): Promise<CheckResult[]> {
  const env = o.env ?? process.env;
  const doFetch = o.fetch ?? fetch;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const out: CheckResult[] = [];
  if (!URL.canParse(o.url) || !/^https?:$/.test(new URL(o.url).protocol)) {
    return [{ id: 'server', status: 'fail', summary: `${o.url} is not an http(s) URL`, fix: 'pass the base URL as the OpenAI SDKs take it, e.g. --url http://127.0.0.1:8000/v1' }];
  }
  const key = o.apiKeyEnv ? env[o.apiKeyEnv] : undefined;
  if (o.apiKeyEnv && !key) out.push({ id: 'api-key', status: 'fail', summary: `environment variable ${o.apiKeyEnv} is not set`, fix: `export ${o.apiKeyEnv}=... (the key is read from the environment, never written)` });
  const secrets = key ? [key] : [];
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};

  // 1. reachable, 2. models listed
  let listed: string[] | null = null;
  try {
    const res = await doFetch(modelsUrl(o.url), { headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      out.push({ id: 'reachable', status: 'fail', summary: `${modelsUrl(o.url)} answered HTTP ${res.status}: the server wants an API key`, fix: 'put the key in an environment variable and pass --api-key-env NAME' });
    } else {
      out.push({ id: 'reachable', status: 'ok', summary: `${new URL(o.url).origin} answered (GET /models: HTTP ${res.status})` });
      try {
        const body = JSON.parse(text) as { data?: { id?: unknown }[] };
        if (res.ok && Array.isArray(body.data)) listed = body.data.map((m) => String(m.id));
      } catch {
        // not JSON: reported below
      }
      if (listed === null) out.push({ id: 'models', status: 'warn', summary: `GET /models gave no model list (HTTP ${res.status}): pass the model name with --model` });
      else if (o.model && !listed.includes(o.model)) out.push({ id: 'models', status: 'fail', summary: `model ${o.model} is not among the ${listed.length} listed: ${listed.slice(0, 10).join(', ')}`, fix: `pass one of the listed names (--ar-model / --diffusion-model in run)` });
      else out.push({ id: 'models', status: listed.length ? 'ok' : 'warn', summary: listed.length ? `${listed.length} model(s) listed: ${listed.slice(0, 10).join(', ')}${listed.length > 10 ? ', ...' : ''}` : 'the server lists no models' });
    }
  } catch (err) {
    out.push({ id: 'reachable', status: 'fail', summary: `cannot reach ${o.url}: ${redact(causeOf(err), secrets)}`, fix: 'check that the server runs and the URL (host, port, /v1) is right' });
    return out;
  }

  // 3. streaming works, 4. usage reported
  const model = o.model ?? listed?.[0];
  if (!model) {
    out.push({ id: 'streaming', status: 'skip', summary: 'no model name to send: pass --model NAME' });
    return out;
  }
  const engine = createOpenAIEngine(
    { baseUrl: o.url, model, endpoint: o.endpoint ?? 'completions', timeoutMs, ...(o.apiKeyEnv ? { apiKeyEnv: o.apiKeyEnv } : {}) },
    { env, ...(o.fetch ? { fetch: o.fetch } : {}) },
  );
  try {
    const m = await engine.send({ text: 'Count from one to ten.' }, 8);
    if (m.state === 'errored') {
      out.push({ id: 'streaming', status: 'fail', summary: `a streamed ${o.endpoint ?? 'completions'} request to ${model} failed: ${m.error.code}: ${m.error.message}` });
      return out;
    }
    const noDone = m.notes.includes('no-done') ? ' (no data: [DONE] after finish_reason)' : '';
    out.push({ id: 'streaming', status: m.chunks.length > 0 ? (noDone ? 'warn' : 'ok') : 'fail', summary: `streamed ${m.outputTokens} token(s) in ${m.chunks.length} chunk(s), TTFT ${m.ttftMs?.toFixed(1) ?? '-'} ms, finish_reason ${m.finishReason ?? 'none'}${noDone}` });
    const usage = m.tokenCountSource === 'usage';
    out.push(
      usage && m.promptTokens !== null
        ? { id: 'usage', status: 'ok', summary: `usage reported: ${m.promptTokens} prompt token(s), ${m.outputTokens} output token(s)` }
        : { id: 'usage', status: 'warn', summary: `${usage ? 'usage has no prompt_tokens' : 'no usage in the stream'}: output tokens are counted from the chunks (${m.tokenCountSource}), the server's prompt length is not recorded` },
    );
  } finally {
    await engine.dispose();
  }
  return out;
}
