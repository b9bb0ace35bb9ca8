import type * as Fs from 'node:fs';

/** CNI configs are small; a runtime never sends more. */
const MAX_STDIN_BYTES = 16 * 1024 * 1024;

const pause = new Int32Array(new SharedArrayBuffer(4));
/** A non-blocking pipe said EAGAIN: wait 2 ms, then try again. */
function waitForPipe(): void {
  Atomics.wait(pause, 0, 0, 2);
}

/**
 * Reads all of stdin synchronously. readFileSync(0) fails with EAGAIN when the runtime hands the
 * plugin a non-blocking pipe (seen under a burst of 100 pods: the call then failed, or a shim
 * sent an empty config); this waits briefly and reads on until end of file. No imports, so the
 * shim bundle stays free of them (fs is passed in).
 */
export function readStdinSync(fs: typeof Fs, fd = 0): Buffer {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(64 * 1024);
  let total = 0;
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        waitForPipe();
        continue;
      }
      if (code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_STDIN_BYTES) throw new Error(`stdin larger than ${MAX_STDIN_BYTES} bytes`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}

/**
 * Writes all of `text` to `fd` synchronously, through EAGAIN as readStdinSync reads. The shim
 * prints its answer this way and exits: under Bun, process.stdout.write alone added about 9 ms to
 * every start (its stream machinery), against 1-2 ms for this (bench/ scenario 5).
 */
export function writeAllSync(fs: typeof Fs, fd: number, text: string): void {
  if (text === '') return;
  const data = Buffer.from(text, 'utf8');
  let at = 0;
  while (at < data.length) {
    try {
      at += fs.writeSync(fd, data, at, data.length - at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      waitForPipe();
    }
  }
}
