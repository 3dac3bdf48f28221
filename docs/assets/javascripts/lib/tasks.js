/* Work in later tasks, one task each (a MessageChannel: sooner than setTimeout, and
 * made on first use, so importing a module starts nothing). */
export function taskQueue() {
  var channel = null, tasks = [];
  return function later(fn) {
    if (!channel) {
      channel = new MessageChannel();
      channel.port1.onmessage = function () { var next = tasks.shift(); if (next) next(); };
    }
    tasks.push(fn);
    channel.port2.postMessage(0);
  };
}
