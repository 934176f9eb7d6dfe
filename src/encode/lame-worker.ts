/**
 * A worker thread running channels' libmp3lame encoders (see LamePool): the
 * same in-process encoder as on the main thread, one per session, its PCM
 * in and MP3 out as messages. Its memory is moved, never shared or copied
 * twice: each message carries a buffer of its own, transferred.
 */
import { parentPort } from 'node:worker_threads';
import { lameInProcess, type LameSession } from './lame-lib.js';
import type { FromWorker, ToWorker } from './lame-pool-messages.js';

const sessions = new Map<number, LameSession>();
const port = parentPort!;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

port.on('message', (m: ToWorker) => {
  if (m.t === 'open') {
    let session: LameSession;
    try {
      session = lameInProcess(m.path, m.bitrate, (chunk) => {
        // A buffer of its own to transfer: the encoder's output is a view into a larger one.
        const own = new Uint8Array(chunk.length);
        own.set(chunk);
        post({ t: 'data', id: m.id, bytes: own.buffer }, [own.buffer]);
      });
    } catch (err) {
      post({ t: 'exit', id: m.id, problem: `${m.path}: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    sessions.set(m.id, session);
    void session.exited.then((problem) => {
      sessions.delete(m.id);
      post({ t: 'exit', id: m.id, problem });
    });
    return;
  }
  const session = sessions.get(m.id);
  if (!session) return;
  if (m.t === 'pcm') session.write(Buffer.from(m.bytes));
  else if (m.t === 'end') session.end();
  else session.kill();
});
