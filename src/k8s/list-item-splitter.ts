/** What an elided string becomes: this prefix and its length in bytes as sent (JSON-escaped). */
export const ELIDED_STRING_PREFIX = '\u0000multinet-elided:';

/**
 * Splits a Kubernetes LIST response (`{"kind":..,"metadata":{..},"items":[{..},{..}]}`) into its
 * items while the bytes arrive, so that the informer holds one item at a time instead of the
 * whole page: a namespace's 1.5 MiB objects would otherwise make every page tens of MiB of text
 * plus its parsed copy (issue 10 #2). A string of an item longer than `maxStringBytes` (as sent)
 * is never kept or parsed: it becomes ELIDED_STRING_PREFIX + its length, which the informer's
 * transform reads as "too large". Everything outside `items` (kind, metadata with resourceVersion
 * and continue) is kept and parsed at the end. The scanner tracks only strings, escapes and
 * nesting; JSON.parse still validates each item and the envelope.
 */
export class ListItemSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The last string closed at depth 1 (a key of the envelope), to find `items`. */
  private lastKey = '';
  private keyPieces: Buffer[] = [];
  private inItems = false;
  private inItem = false;
  private pieces: Buffer[] = [];
  /** Bytes of the current string, and how many of them are already in `pieces`. */
  private strLen = 0;
  private strPushed = 0;
  private eliding = false;
  private readonly outer: Buffer[] = [];
  private outerBytes = 0;

  constructor(
    private readonly onItem: (item: unknown) => void,
    private readonly maxStringBytes = Number.POSITIVE_INFINITY,
    /** The envelope without items is a few hundred bytes; more means this is not a LIST. */
    private readonly maxOuterBytes = 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    const len = chunk.length;
    let outerFrom = this.inItems ? -1 : 0;
    let itemStart = this.inItem && !this.eliding ? 0 : -1;
    let strStart = this.inString ? 0 : -1;
    let i = 0;
    while (i < len) {
      if (this.inString) {
        const [close, next] = this.scanString(chunk, i);
        this.strLen += (close === -1 ? len : close) - i;
        if (this.inItem && !this.eliding && this.strLen > this.maxStringBytes) {
          // Too long to keep: drop what of it was copied, skip the rest, write the marker at its end.
          if (strStart > itemStart) this.pieces.push(Buffer.from(chunk.subarray(itemStart, strStart)));
          else this.truncatePieces(this.strPushed);
          this.eliding = true;
          itemStart = -1;
        }
        if (close === -1) {
          i = next;
          break;
        }
        this.inString = false;
        if (this.eliding) {
          this.pieces.push(Buffer.from(`${JSON.stringify(ELIDED_STRING_PREFIX).slice(1, -1)}${this.strLen}`));
          this.eliding = false;
          itemStart = close;
        } else if (this.depth === 1 && !this.inItems) {
          this.keyPieces.push(chunk.subarray(strStart, close));
          this.lastKey = Buffer.concat(this.keyPieces).toString('utf8');
          this.keyPieces = [];
        }
        i = close + 1;
        continue;
      }
      const b = chunk[i]!;
      if (b === 0x22) {
        this.inString = true;
        this.strLen = 0;
        this.strPushed = 0;
        strStart = i + 1;
      } else if (b === 0x7b || b === 0x5b) {
        if (this.inItems && this.depth === 2 && b === 0x7b) {
          this.inItem = true;
          itemStart = i;
        }
        if (this.depth === 1 && b === 0x5b && this.lastKey === 'items' && !this.inItems) {
          // Keep `[` in the envelope, drop what follows until the matching `]`.
          this.addOuter(chunk.subarray(outerFrom, i + 1));
          outerFrom = -1;
          this.inItems = true;
        }
        this.depth++;
      } else if (b === 0x7d || b === 0x5d) {
        this.depth--;
        if (this.inItem && this.depth === 2) {
          this.pieces.push(chunk.subarray(itemStart, i + 1));
          const text = Buffer.concat(this.pieces).toString('utf8');
          this.pieces = [];
          this.inItem = false;
          itemStart = -1;
          this.onItem(JSON.parse(text));
        } else if (this.inItems && this.depth === 1) {
          this.inItems = false;
          this.lastKey = '';
          outerFrom = i;
        }
      }
      i++;
    }
    if (outerFrom !== -1) this.addOuter(chunk.subarray(outerFrom));
    // What continues in the next chunk is copied: the caller may reuse its buffer.
    if (this.inItem && itemStart !== -1) {
      this.pieces.push(Buffer.from(chunk.subarray(itemStart)));
      if (this.inString) this.strPushed += len - Math.max(strStart, itemStart);
    }
    if (this.inString && this.depth === 1 && !this.inItems)
      this.keyPieces.push(Buffer.from(chunk.subarray(strStart)));
  }

  /** The envelope (kind, apiVersion, metadata), items removed. Throws on a truncated or bad body. */
  end(): Record<string, unknown> {
    if (this.depth !== 0 || this.inString) throw new Error('LIST response ended before its last item');
    const envelope = JSON.parse(Buffer.concat(this.outer).toString('utf8')) as unknown;
    if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope))
      throw new Error('LIST response is not an object');
    return envelope as Record<string, unknown>;
  }

  /** [index of the closing quote or -1, where to go on]; native searches, as strings can be MiBs. */
  private scanString(chunk: Buffer, from: number): [number, number] {
    let j = from;
    if (this.escaped) {
      this.escaped = false;
      j++;
    }
    const len = chunk.length;
    for (;;) {
      if (j >= len) {
        if (j > len) this.escaped = true;
        return [-1, len];
      }
      // A quote closes the string unless an odd run of backslashes precedes it (bytes before j are settled).
      const q = chunk.indexOf(0x22, j);
      let k = (q === -1 ? len : q) - 1;
      while (k >= j && chunk[k] === 0x5c) k--;
      const odd = ((q === -1 ? len : q) - 1 - k) % 2 === 1;
      if (q === -1) {
        if (odd) this.escaped = true;
        return [-1, len];
      }
      if (!odd) return [q, q + 1];
      j = q + 1;
    }
  }

  private truncatePieces(bytes: number): void {
    let k = bytes;
    while (k > 0) {
      const last = this.pieces.pop();
      if (!last) return;
      if (last.length > k) this.pieces.push(last.subarray(0, last.length - k));
      k -= last.length;
    }
  }

  private addOuter(piece: Buffer): void {
    if (piece.length === 0) return;
    this.outerBytes += piece.length;
    if (this.outerBytes > this.maxOuterBytes)
      throw new Error(`LIST response has more than ${this.maxOuterBytes} bytes outside its items`);
    this.outer.push(Buffer.from(piece));
  }
}
