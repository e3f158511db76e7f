// The WASM kernel's entry point (AssemblyScript, compiled by scripts/build-wasm.mjs to WASM SIMD).
//   rows: the SIMD fast path (class-index targets, shared noise and mask), in rows.ts.
//   rowsGeneral: every option, scalar float64, below.
export { rows } from './rows';

// ---------------------------------------------------------------------------------------------------
// The general path: every option of crossEntropy, one row at a time with f64 scalars (the reference
// loop of src/core/crossEntropy.ts, in WASM). Used for probability targets, per-sample noise and per-row
// masks, which the SIMD fast path (rows.ts) does not take.
//   z: (N,K) f32, overwritten by the gradient; labels: i32 per row (−1 ignored, −2 probability row);
//   t: (N,K) f32 probabilities or 0; n: noise f32 (K, or (N,K) when nRows) or 0; mask: f32 (K, or (N,K)
//   when maskRows) or 0; w: per-class weights f32 K or 0; ew: per-example weights f32 K or 0;
//   noiseKind: 0 uniform, 1 non-target, 2 prior / per-sample; scale: f64 per row (global scale × sample
//   weight); out: (N,3) f64 = (nll, smoothing, row factor) — NaN when the row is invalid (the caller then
//   lets the reference path report it).
export function rowsGeneral(
  z: usize,
  rowsN: i32,
  k: i32,
  labels: usize,
  t: usize,
  n: usize,
  nRows: i32,
  mask: usize,
  maskRows: i32,
  w: usize,
  ew: usize,
  noiseKind: i32,
  eps: f64,
  scale: usize,
  out: usize,
  writeGrad: i32,
): void {
  const rowBytes = <usize>k << 2;
  for (let i = 0; i < rowsN; i++) {
    const row = z + <usize>i * rowBytes;
    const o = out + <usize>i * 24;
    const y = load<i32>(labels + (<usize>i << 2));
    const tr = t ? t + <usize>i * rowBytes : 0;
    const nr = n ? n + (nRows ? <usize>i * rowBytes : 0) : 0;
    const mr = mask ? mask + (maskRows ? <usize>i * rowBytes : 0) : 0;
    store<f64>(o, 0.0);
    store<f64>(o, 0.0, 8);
    store<f64>(o, 0.0, 16);
    if (y == -1) {
      if (writeGrad) memory.fill(row, 0, rowBytes);
      continue;
    }
    let m: f64 = -Infinity;
    let se: f64 = 0.0;
    let ref: f64 = 0.0;
    let ka = 0;
    let sw: f64 = 0.0;
    let swz: f64 = 0.0;
    let st: f64 = 0.0;
    let stz: f64 = 0.0;
    let sn: f64 = 0.0;
    let snz: f64 = 0.0;
    let zu: f64 = 0.0;
    let swt: f64 = 0.0;
    let bad = false;
    for (let c = 0; c < k; c++) {
      const off = <usize>c << 2;
      if (mr && load<f32>(mr + off) == 0) continue;
      const v = <f64>load<f32>(row + off);
      if (!(v > -Infinity && v < Infinity)) {
        bad = true;
        break;
      }
      if (ka == 0) ref = v;
      ka++;
      if (v > m) {
        se = se * Math.exp(m - v) + 1.0;
        m = v;
      } else se += Math.exp(v - m);
      const d = v - ref;
      const wc: f64 = w ? <f64>load<f32>(w + off) : 1.0;
      sw += wc;
      swz += wc * d;
      if (tr) {
        const tc = <f64>load<f32>(tr + off);
        st += wc * tc;
        stz += wc * tc * d;
        if (ew) swt += <f64>load<f32>(ew + off) * tc;
      }
      if (nr) {
        const nc = <f64>load<f32>(nr + off);
        zu += nc;
        sn += wc * nc;
        snz += wc * nc * d;
      }
    }
    if (bad || ka == 0) {
      store<f64>(o, NaN);
      continue;
    }
    const lse = m - ref + Math.log(se);
    let nll: f64;
    let wy: f64 = 1.0;
    if (y >= 0) {
      wy = w ? <f64>load<f32>(w + (<usize>y << 2)) : 1.0;
      const dy = <f64>load<f32>(row + (<usize>y << 2)) - ref;
      st = wy;
      stz = wy * dy;
      nll = wy * (lse - dy);
    } else nll = st * lse - stz;
    let u0: f64 = 0.0;
    let uT: f64 = 0.0;
    let uN: f64 = 0.0;
    if (noiseKind == 0) u0 = 1.0 / <f64>ka;
    else if (noiseKind == 1) {
      if (ka < 2) {
        store<f64>(o, NaN);
        continue;
      }
      u0 = 1.0 / <f64>(ka - 1);
      uT = -u0;
    } else {
      if (!(zu > 0)) {
        store<f64>(o, NaN);
        continue;
      }
      uN = 1.0 / zu;
    }
    const smooth = u0 * (sw * lse - swz) + uT * (st * lse - stz) + uN * (sn * lse - snz);
    const factor: f64 = ew ? (y >= 0 ? <f64>load<f32>(ew + (<usize>y << 2)) : swt) : 1.0;
    store<f64>(o, nll);
    store<f64>(o, smooth, 8);
    store<f64>(o, factor, 16);
    if (!writeGrad) continue;
    // dL/dz_c = g·(Γ·q_c − γ_c), γ_c = w_c·(a + b·t_c + e·n_c) on the allowed classes.
    const g = load<f64>(scale + (<usize>i << 3)) * factor;
    const a = eps * u0;
    const b = 1.0 - eps + eps * uT;
    const e = eps * uN;
    const gamma = (1.0 - eps) * st + eps * (u0 * sw + uT * st + uN * sn);
    const gq = (g * gamma) / se;
    for (let c = 0; c < k; c++) {
      const off = <usize>c << 2;
      if (mr && load<f32>(mr + off) == 0) {
        store<f32>(row + off, 0);
        continue;
      }
      const v = <f64>load<f32>(row + off);
      const tc: f64 = tr ? <f64>load<f32>(tr + off) : c == y ? 1.0 : 0.0;
      let target = a + b * tc;
      if (nr) target += e * <f64>load<f32>(nr + off);
      if (w) target *= <f64>load<f32>(w + off);
      store<f32>(row + off, <f32>(gq * Math.exp(v - m) - g * target));
    }
  }
}
