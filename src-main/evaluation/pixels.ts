/**
 * The `pixels` baseline of eval: a "tiny image" feature (Torralba et al.): the photo shrunk to
 * side x side by box averaging, each channel centred, the whole vector L2-normalised. Any learnt
 * embedding worth shipping must beat it.
 */
export function tinyImageFeature(rgb: Uint8Array, width: number, height: number, side = 16): Float32Array {
  const out = new Float32Array(side * side * 3);
  for (let oy = 0; oy < side; oy++) {
    const y0 = Math.floor((oy * height) / side);
    const y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * height) / side));
    for (let ox = 0; ox < side; ox++) {
      const x0 = Math.floor((ox * width) / side);
      const x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * width) / side));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = (y * width + x) * 3;
          r += rgb[i]!;
          g += rgb[i + 1]!;
          b += rgb[i + 2]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (oy * side + ox) * 3;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
    }
  }
  for (let c = 0; c < 3; c++) {
    let mean = 0;
    for (let i = c; i < out.length; i += 3) mean += out[i]!;
    mean /= side * side;
    for (let i = c; i < out.length; i += 3) out[i] = out[i]! - mean;
  }
  let norm = 0;
  for (const v of out) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / norm;
  return out;
}
