// Fused label-smoothed cross-entropy, forward + backward, WASM SIMD (AssemblyScript).
//
// Per row i with label y (−1 = ignored), logits z (K, f32), class weights w (or 1), noise vector v
// (β_c = w_c·u_c on allowed classes, shared by all rows; or the constant vConst), non-target correction
// δ = −w_y/(Kₐ−1) at y:
//   ℓ = lse − z_y = (m − z_y) + log Σ_allowed exp(z_c − m)     (never formed as lse: z_y may be large)
//   nll  = w_y·ℓ
//   smooth = V·ℓ − Σ v_c (z_c − z_y) + δ·ℓ                  (V = Σ v_c)
//   grad_c = g_i·(Γ·q_c − ε·v_c) − g_i·((1−ε)·w_y + ε·δ)·[c = y],   Γ = (1−ε)·w_y + ε·(V + δ)
// Layout: z: (N,K) row-major f32, overwritten in place by the gradient; out: (N,2) f64 (nll, smooth).
// The row is processed in blocks of BLOCK floats: block max, then exp(z − blockmax) stored in place with the
// sums (one read of the logits from memory); the gradient pass rescales each block by exp(bm − m)/s.

const BLOCK: i32 = 2048;

// exp(x) for x ≤ 0, 4 lanes, relative error ~1e−7 (Cephes expf): x = n·ln2 + r, |r| ≤ ln2/2.
@inline
function exp4(x: v128): v128 {
  // Clamped at −87.3: exp gives ~1e−38 there instead of 0, negligible next to the row max's exp(0) = 1.
  x = f32x4.max(x, f32x4.splat(-87.3));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504)), f32x4.splat(0.5)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2n);
}

@inline
function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

// Sum of the 2 f64 lanes of a (the per-block sums are kept as f64x2).
@inline
function hsum2(a: v128): f64 {
  return f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
}

/**
 * Process `rows` rows. Pointers of 0 mean "absent": w (class weights, f32 K), v (noise vector, f32 K; else
 * vConst), mask (f32 K, 1 = allowed). scale: f64 per row, the gradient factor g_i (row weight / denominator).
 * labels: i32 per row (−1 = ignored). out: f64 (nll, smooth) per row. bm: scratch for block maxima.
 */
export function rows(
  z: usize,
  n: i32,
  k: i32,
  labels: usize,
  scale: usize,
  w: usize,
  v: usize,
  vConst: f64,
  mask: usize,
  eps: f64,
  nonTarget: i32,
  ka: i32,
  vSum: f64,
  out: usize,
  bm: usize,
  writeGrad: i32,
): void {
  const rowBytes = <usize>k << 2;
  const neg = f32x4.splat(-Infinity);
  for (let i = 0; i < n; i++) {
    const row = z + <usize>i * rowBytes;
    const y = load<i32>(labels + (<usize>i << 2));
    if (y < 0) {
      if (writeGrad) memory.fill(row, 0, rowBytes);
      store<f64>(out + (<usize>i << 4), 0.0);
      store<f64>(out + (<usize>i << 4), 0.0, 8);
      continue;
    }
    const zy = <f64>load<f32>(row + (<usize>y << 2));
    // Sums are taken of z − z_y so that large common offsets cancel before they are accumulated.
    const zyv = f32x4.splat(<f32>zy);
    // Pass 1: block max, exp in place, Σ exp and Σ v·(z − z_y) in f64.
    let m: f64 = -Infinity;
    let s: f64 = 0.0;
    let svz = f64x2.splat(0.0);
    let nb = 0;
    for (let b0 = 0; b0 < k; b0 += BLOCK) {
      const b1 = min(b0 + BLOCK, k);
      const v1 = b0 + ((b1 - b0) & ~7); // 8 floats per iteration: two independent vectors
      // block max over allowed classes
      let mx = neg;
      let mx2 = neg;
      let smax: f32 = -Infinity;
      for (let c = b0; c < v1; c += 8) {
        const p = row + (<usize>c << 2);
        let za = v128.load(p);
        let zb = v128.load(p, 16);
        if (mask) {
          za = v128.bitselect(za, neg, f32x4.ne(v128.load(mask + (<usize>c << 2)), f32x4.splat(0)));
          zb = v128.bitselect(zb, neg, f32x4.ne(v128.load(mask + (<usize>c << 2), 16), f32x4.splat(0)));
        }
        mx = f32x4.max(mx, za);
        mx2 = f32x4.max(mx2, zb);
      }
      mx = f32x4.max(mx, mx2);
      for (let c = v1; c < b1; c++) {
        if (mask && load<f32>(mask + (<usize>c << 2)) == 0) continue;
        smax = max(smax, load<f32>(row + (<usize>c << 2)));
      }
      const bmax = max(
        max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3))),
        smax,
      );
      store<f32>(bm + (<usize>nb << 2), bmax);
      nb++;
      if (bmax == -Infinity) {
        // every class of the block is masked
        if (writeGrad) memory.fill(row + (<usize>b0 << 2), 0, <usize>(b1 - b0) << 2);
        continue;
      }
      const bv = f32x4.splat(bmax);
      let se = f64x2.splat(0.0);
      let se2 = f64x2.splat(0.0); // two accumulators: independent add chains
      for (let c = b0; c < v1; c += 8) {
        const p = row + (<usize>c << 2);
        let za = v128.load(p);
        let zb = v128.load(p, 16);
        let ea: v128;
        let eb: v128;
        if (mask) {
          const oka = f32x4.ne(v128.load(mask + (<usize>c << 2)), f32x4.splat(0));
          const okb = f32x4.ne(v128.load(mask + (<usize>c << 2), 16), f32x4.splat(0));
          ea = v128.and(exp4(f32x4.sub(v128.bitselect(za, bv, oka), bv)), oka);
          eb = v128.and(exp4(f32x4.sub(v128.bitselect(zb, bv, okb), bv)), okb);
          za = v128.and(f32x4.sub(za, zyv), oka);
          zb = v128.and(f32x4.sub(zb, zyv), okb);
        } else {
          ea = exp4(f32x4.sub(za, bv));
          eb = exp4(f32x4.sub(zb, bv));
          za = f32x4.sub(za, zyv);
          zb = f32x4.sub(zb, zyv);
        }
        if (v) {
          za = f32x4.mul(v128.load(v + (<usize>c << 2)), za);
          zb = f32x4.mul(v128.load(v + (<usize>c << 2), 16), zb);
        }
        v128.store(p, ea);
        v128.store(p, eb, 16);
        // exp values go to f64 one by one (1 + small terms must not round in f32); the (z − z_y) terms are
        // paired in f32 first (one rounding of 6e−8 relative), then accumulated in f64.
        se = f64x2.add(se, f64x2.add(f64x2.promote_low_f32x4(ea), f64x2.promote_low_f32x4(v128.shuffle<i32>(ea, ea, 2, 3, 0, 1))));
        se2 = f64x2.add(se2, f64x2.add(f64x2.promote_low_f32x4(eb), f64x2.promote_low_f32x4(v128.shuffle<i32>(eb, eb, 2, 3, 0, 1))));
        const z2 = f32x4.add(za, zb);
        svz = f64x2.add(svz, f64x2.add(f64x2.promote_low_f32x4(z2), f64x2.promote_low_f32x4(v128.shuffle<i32>(z2, z2, 2, 3, 0, 1))));
      }
      let sb = hsum2(f64x2.add(se, se2));
      let tail: f64 = 0.0;
      for (let c = v1; c < b1; c++) {
        const p = row + (<usize>c << 2);
        const zz = load<f32>(p);
        if (mask && load<f32>(mask + (<usize>c << 2)) == 0) {
          store<f32>(p, 0);
          continue;
        }
        const e = exp1(zz - bmax);
        store<f32>(p, e);
        sb += <f64>e;
        tail += (v ? <f64>load<f32>(v + (<usize>c << 2)) : 1.0) * (<f64>zz - zy);
      }
      svz = f64x2.add(svz, f64x2.splat(tail * 0.5));
      // merge the block into the running (m, s)
      const bm64 = <f64>bmax;
      if (m == -Infinity) {
        s = sb;
        m = bm64;
      } else if (bm64 > m) {
        s = s * Math.exp(m - bm64) + sb;
        m = bm64;
      } else s += sb * Math.exp(bm64 - m);
    }
    const ly = m - zy + Math.log(s); // lse − z_y, without forming lse (z_y may be large)
    const wy: f64 = w ? <f64>load<f32>(w + (<usize>y << 2)) : 1.0;
    const delta: f64 = nonTarget ? -wy / <f64>(ka - 1) : 0.0;
    const sumVz = hsum2(svz) * (v ? 1.0 : vConst); // Σ v_c·(z_c − z_y)
    store<f64>(out + (<usize>i << 4), wy * ly);
    store<f64>(out + (<usize>i << 4), vSum * ly - sumVz + delta * ly, 8);
    if (!writeGrad) continue;
    // Pass 2: grad_c = g·Γ/s·exp(bm − m)·e_c − g·ε·v_c, then the target correction.
    const g = load<f64>(scale + (<usize>i << 3));
    const gamma = (1.0 - eps) * wy + eps * (vSum + delta);
    const ev = f32x4.splat(<f32>(g * eps * vConst));
    const gev = <f32>(g * eps);
    nb = 0;
    for (let b0 = 0; b0 < k; b0 += BLOCK) {
      const b1 = min(b0 + BLOCK, k);
      const bmax = <f64>load<f32>(bm + (<usize>nb << 2));
      nb++;
      if (bmax == -Infinity) continue;
      const f = <f32>(((g * gamma) / s) * (bmax == m ? 1.0 : Math.exp(bmax - m)));
      const fv = f32x4.splat(f);
      const v1 = b0 + ((b1 - b0) & ~7);
      for (let c = b0; c < v1; c += 8) {
        const p = row + (<usize>c << 2);
        const qa = f32x4.mul(v128.load(p), fv);
        const qb = f32x4.mul(v128.load(p, 16), fv);
        let ga: v128;
        let gb: v128;
        if (v) {
          ga = f32x4.sub(qa, f32x4.mul(v128.load(v + (<usize>c << 2)), f32x4.splat(gev)));
          gb = f32x4.sub(qb, f32x4.mul(v128.load(v + (<usize>c << 2), 16), f32x4.splat(gev)));
        } else {
          ga = f32x4.sub(qa, ev);
          gb = f32x4.sub(qb, ev);
        }
        if (mask) {
          ga = v128.and(ga, f32x4.ne(v128.load(mask + (<usize>c << 2)), f32x4.splat(0)));
          gb = v128.and(gb, f32x4.ne(v128.load(mask + (<usize>c << 2), 16), f32x4.splat(0)));
        }
        v128.store(p, ga);
        v128.store(p, gb, 16);
      }
      for (let c = v1; c < b1; c++) {
        const p = row + (<usize>c << 2);
        if (mask && load<f32>(mask + (<usize>c << 2)) == 0) {
          store<f32>(p, 0);
          continue;
        }
        const t: f32 = v ? load<f32>(v + (<usize>c << 2)) * gev : f32x4.extract_lane(ev, 0);
        store<f32>(p, load<f32>(p) * f - t);
      }
    }
    // The target entry is where q_y ≈ 1 cancels against the target mass: recompute it in f64.
    const qy = ly == 0 ? 1.0 : Math.exp(-ly);
    const vy: f64 = v ? <f64>load<f32>(v + (<usize>y << 2)) : vConst;
    store<f32>(row + (<usize>y << 2), <f32>(g * (gamma * qy - eps * vy) - g * ((1.0 - eps) * wy + eps * delta)));
  }
}
