/* The views' raster worker (a module worker started by lib/backend.js): the core of
 * lib/core.js, answering the page's messages. Posts leave in order: a picture becomes
 * an ImageBitmap (handed over, not copied) first. */

import { createCore } from "./lib/core.js";
import { taskQueue } from "./lib/tasks.js";

let chain = Promise.resolve();

function out(msg, transfer, image) {
  chain = chain.then(() => {
    if (image && typeof createImageBitmap === "function") {
      return createImageBitmap(new ImageData(msg.data, msg.width, msg.height)).then((bitmap) => {
        delete msg.data;
        msg.bitmap = bitmap;
        self.postMessage(msg, [bitmap]);
      }, () => { self.postMessage(msg, [msg.data.buffer]); });
    }
    self.postMessage(msg, image ? [msg.data.buffer] : transfer || []);
    return undefined;
  });
}

const core = createCore(out, taskQueue());
self.onmessage = (event) => { core.handle(event.data); };
