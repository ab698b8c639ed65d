/** Error measures the numerical tests share (imported by *.test.ts only). */

/** max |ours - ref| / max |ref|: one scale for the whole tensor, so near-zero elements do not blow it up */
export function maxRelErr(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (ours.length !== ref.length) throw new Error(`length ${ours.length} vs ${ref.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return diff / (scale || 1);
}
