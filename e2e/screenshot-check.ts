import sharp from 'sharp';

/**
 * A screenshot that shows photos is anything but flat: measure the spread of its pixel values and
 * how many distinct colours it holds. A blank or placeholder-only grid scores near zero on both.
 */
export async function imageVariety(file: string | Buffer): Promise<{ stdev: number; colours: number }> {
  const img = sharp(file).removeAlpha();
  const stats = await img.stats();
  const stdev = stats.channels.reduce((s, c) => s + c.stdev, 0) / stats.channels.length;
  const { data } = await sharp(file).removeAlpha().resize(160, 100, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const seen = new Set<number>();
  // quantise to 4 bits a channel so compression noise does not count as colour
  for (let i = 0; i + 2 < data.length; i += 3) seen.add(((data[i]! >> 4) << 8) | ((data[i + 1]! >> 4) << 4) | (data[i + 2]! >> 4));
  return { stdev, colours: seen.size };
}
