/**
 * A parser of the `text/event-stream` format (HTML Living Standard, "server-sent events"), for the
 * dashboard's fetch-based stream reader: fetch can send the Authorization header, which EventSource
 * cannot. Runs in the browser (bundled by ../assets.ts) and in Node's tests.
 */

export interface StreamEvent {
  /** The `event:` field; `message` when absent. */
  readonly event: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
}

export interface ParsedStream {
  readonly events: StreamEvent[];
  /** The `retry:` value in milliseconds, when one came. */
  readonly retryMs: number | undefined;
  /** Text after the last complete event: prepend it to the next chunk. */
  readonly rest: string;
}

/**
 * Parses the complete events at the start of `text` (CRLF, LF or CR line ends; `:` comments ignored;
 * an event without data is not dispatched, as in EventSource).
 */
export function parseEventStream(text: string): ParsedStream {
  const events: StreamEvent[] = [];
  let retryMs: number | undefined;
  let event = '';
  let data: string[] = [];
  let consumed = 0;
  let position = 0;
  while (position < text.length) {
    const lf = text.indexOf('\n', position);
    const cr = text.indexOf('\r', position);
    let end: number;
    let next: number;
    if (cr !== -1 && (lf === -1 || cr < lf)) {
      // A CR at the very end may be the first half of a CRLF: wait for more text.
      if (cr === text.length - 1) break;
      end = cr;
      next = text[cr + 1] === '\n' ? cr + 2 : cr + 1;
    } else if (lf !== -1) {
      end = lf;
      next = lf + 1;
    } else {
      break;
    }
    const line = text.slice(position, end);
    position = next;
    if (line === '') {
      if (data.length > 0) events.push({ event: event === '' ? 'message' : event, data: data.join('\n') });
      event = '';
      data = [];
      consumed = position;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
  }
  return { events, retryMs, rest: text.slice(consumed) };
}
