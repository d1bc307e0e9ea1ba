// Colour scales. Two classes / signed values: orange (negative, class 0) – white – blue (positive, class 1),
// as in the TensorFlow Playground; more classes: one hue each, mixed by probability.

export const NEG = [245, 147, 34];
export const MID = [232, 234, 235];
export const POS = [8, 119, 189];
export const CLASS_COLORS = [NEG, POS, [76, 175, 80], [171, 71, 188], [229, 57, 53], [121, 85, 72],
  [0, 172, 193], [124, 179, 66], [255, 193, 7], [96, 125, 139]];

/** t in [-1, 1] -> [r, g, b] on the orange–white–blue scale. */
export function diverging(t) {
  const u = Math.max(-1, Math.min(1, t));
  const end = u < 0 ? NEG : POS;
  const w = Math.abs(u);
  return [MID[0] + (end[0] - MID[0]) * w, MID[1] + (end[1] - MID[1]) * w, MID[2] + (end[2] - MID[2]) * w];
}

/** t in [0, 1] -> a light-to-dark purple used for gradient magnitudes in the backward view. */
export function magnitude(t) {
  const u = Math.max(0, Math.min(1, t));
  return [243 - 180 * u, 229 - 200 * u, 245 - 110 * u];
}

export function rgb(c, alpha = 1) {
  return `rgba(${c[0] | 0},${c[1] | 0},${c[2] | 0},${alpha})`;
}

/** Fill ImageData pixels from a G×G grid of values through colorOf(value) -> [r, g, b]. */
export function gridToImage(image, values, offset, size, colorOf) {
  const px = image.data;
  for (let i = 0; i < size * size; i++) {
    const c = colorOf(values[offset + i]);
    px[4 * i] = c[0];
    px[4 * i + 1] = c[1];
    px[4 * i + 2] = c[2];
    px[4 * i + 3] = 255;
  }
}

// diverging() tabulated: LUT_SIZE colours over [-1, 1], for the per-pixel loops (no array per pixel)
const LUT_SIZE = 511;
const LUT = new Uint8ClampedArray(LUT_SIZE * 3);
for (let i = 0; i < LUT_SIZE; i++) LUT.set(diverging((2 * i) / (LUT_SIZE - 1) - 1), 3 * i);

/** gridToImage with diverging(values[i] · scale): the fast path of the neurons' heat maps. */
export function gridToImageDiverging(image, values, offset, size, scale) {
  const px = image.data;
  const half = (LUT_SIZE - 1) / 2;
  for (let i = 0; i < size * size; i++) {
    let t = values[offset + i] * scale;
    t = t > 1 ? 1 : t < -1 ? -1 : t !== t ? 0 : t; // clamp; NaN as 0
    const k = 3 * Math.round((t + 1) * half);
    px[4 * i] = LUT[k];
    px[4 * i + 1] = LUT[k + 1];
    px[4 * i + 2] = LUT[k + 2];
    px[4 * i + 3] = 255;
  }
}
