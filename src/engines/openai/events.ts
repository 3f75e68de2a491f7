/**
 * Server-sent events of a fetch Response body. Framing (line ends, comments, multi-line data, a BOM, events split
 * anywhere across reads) is eventsource-parser's; this module only decodes bytes as UTF-8 across reads (a character
 * may be split between two TCP writes) and turns the callbacks into an async iterator. An unterminated event at the
 * end of the stream is dropped, as the SSE spec says, so a cut stream never yields half a chunk.
 */
import { type EventSourceMessage, createParser } from 'eventsource-parser';

export type SSEEvent = EventSourceMessage;

export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SSEEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  let pending: SSEEvent[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      const ready = pending;
      pending = [];
      yield* ready;
      if (done) return;
    }
  } finally {
    // Releases the connection when the consumer stops early ([DONE], error) or the stream failed.
    reader.cancel().catch(() => undefined);
  }
}
