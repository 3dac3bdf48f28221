/* A download's bertviz view carries its attention deflated (build/download.py,
 * compact_params): each attention's weights as whole thousandths, 16-bit little-endian,
 * raw-deflated and base64-encoded, instead of the nested JSON arrays bertviz writes
 * (a tenth of the bytes, the same numbers). __gvParams gives back bertviz's own params,
 * the arrays rebuilt; the view's code runs once they are (DecompressionStream: every
 * browser Jupyter runs in). tests/js/download.test.js reads Python's golden file. */
function __gvParams(p) {
  async function inflate(b64) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new DataView(await new Response(stream).arrayBuffer());
  }
  return Promise.all(p.attention.map(async (a) => {
    const packed = a.attn, data = await inflate(packed.deflated);
    const [layers, heads, rows, cols] = packed.shape;
    const attn = [];
    let k = 0;
    for (let l = 0; l < layers; l++) {
      const layer = [];
      for (let h = 0; h < heads; h++) {
        const head = [];
        for (let i = 0; i < rows; i++) {
          const row = new Array(cols);
          for (let j = 0; j < cols; j++, k++) row[j] = data.getUint16(2 * k, true) / packed.scale;
          head.push(row);
        }
        layer.push(head);
      }
      attn.push(layer);
    }
    a.attn = attn;
  })).then(() => p);
}
