;; SIMD kernels for the TF.js wasm backend (see ../simd.ts). This module imports the
;; backend's own memory, so every pointer argument is the byte offset of a tensor on the
;; TF.js heap and nothing is copied. The row kernels (softmax gradient, log-sum-exp,
;; target log-probability gradient) take any row length, finishing each row's last
;; 1–3 floats one at a time; the others need lengths that are multiples of 4, which the
;; callers check (otherwise they run the stock kernels).
;;
;; Built into kernels-wasm.ts by `npm run build:simd` (wabt); a test checks that the
;; built file matches this source.
(module
  (import "env" "memory" (memory 1))

  ;; e^x per lane, float32 precision (≤ 2 ulp): x = k·ln2 + r, |r| ≤ ln2/2 (Cody–Waite
  ;; split of ln2), e^r by its Taylor series to r⁶, 2^k built in the exponent bits.
  ;; Lanes below -87.3 give 0; lanes above 88.3 saturate at ~2^127.
  (func $exp (param $x v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128) (local $under v128)
    (local.set $under (f32x4.lt (local.get $x) (f32x4.splat (f32.const -87.3))))
    (local.set $x (f32x4.pmin (f32x4.pmax (local.get $x) (f32x4.splat (f32.const -87.3))) (f32x4.splat (f32.const 88.3))))
    (local.set $k (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341)))))
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $k) (f32x4.splat (f32.const 0.693359375)))))
    (local.set $r (f32x4.add (local.get $r) (f32x4.mul (local.get $k) (f32x4.splat (f32.const 2.12194440e-4)))))
    (local.set $p (f32x4.splat (f32.const 1.38888889e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 8.33333333e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 4.16666667e-2))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0.166666667))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 0.5))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1))))
    (v128.andnot
      (f32x4.mul (local.get $p)
        (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (i32x4.splat (i32.const 127))) (i32.const 23)))
      (local.get $under)))

  ;; 1 / (1 + e^-x)
  (func $sigmoid (param $x v128) (result v128)
    (f32x4.div (f32x4.splat (f32.const 1))
      (f32x4.add (f32x4.splat (f32.const 1)) (call $exp (f32x4.neg (local.get $x))))))

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  (func $hmax (param $v v128) (result f32)
    (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.max (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; dg = dy · u · s · (1 + g·(1 − s)), du = dy · g · s, with s = sigmoid(g).
  (func (export "swiglu_grad") (param $dy i32) (param $g i32) (param $u i32) (param $dg i32) (param $du i32) (param $n i32)
    (local $end i32) (local $gv v128) (local $s v128) (local $d v128)
    (local.set $end (i32.add (local.get $g) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $g) (local.get $end)))
        (local.set $gv (v128.load (local.get $g)))
        (local.set $s (call $sigmoid (local.get $gv)))
        (local.set $d (v128.load (local.get $dy)))
        (v128.store (local.get $dg)
          (f32x4.mul
            (f32x4.mul (f32x4.mul (local.get $d) (v128.load (local.get $u))) (local.get $s))
            (f32x4.add (f32x4.splat (f32.const 1))
              (f32x4.mul (local.get $gv) (f32x4.sub (f32x4.splat (f32.const 1)) (local.get $s))))))
        (v128.store (local.get $du) (f32x4.mul (f32x4.mul (local.get $d) (local.get $gv)) (local.get $s)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $u (i32.add (local.get $u) (i32.const 16)))
        (local.set $dg (i32.add (local.get $dg) (i32.const 16)))
        (local.set $du (i32.add (local.get $du) (i32.const 16)))
        (br $next))))

  ;; RMSNorm over rows of D: y = x · w / sqrt(mean(x²) + eps).
  (func (export "rms_norm") (param $x i32) (param $w i32) (param $y i32) (param $rows i32) (param $D i32) (param $eps f32)
    (local $row i32) (local $j i32) (local $bytes i32) (local $ss v128) (local $xv v128) (local $rv v128)
    (local.set $bytes (i32.shl (local.get $D) (i32.const 2)))
    (local.set $row (i32.const 0))
    (block $rows_done (loop $row_loop
      (br_if $rows_done (i32.ge_u (local.get $row) (local.get $rows)))
      (local.set $ss (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      (block $a (loop $sums
        (br_if $a (i32.ge_u (local.get $j) (local.get $bytes)))
        (local.set $xv (v128.load (i32.add (local.get $x) (local.get $j))))
        (local.set $ss (f32x4.add (local.get $ss) (f32x4.mul (local.get $xv) (local.get $xv))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $sums)))
      (local.set $rv (f32x4.splat (f32.div (f32.const 1)
        (f32.sqrt (f32.add (f32.div (call $hsum (local.get $ss)) (f32.convert_i32_u (local.get $D))) (local.get $eps))))))
      (local.set $j (i32.const 0))
      (block $b (loop $scale
        (br_if $b (i32.ge_u (local.get $j) (local.get $bytes)))
        (v128.store (i32.add (local.get $y) (local.get $j))
          (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $j))) (local.get $rv))
                     (v128.load (i32.add (local.get $w) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $scale)))
      (local.set $x (i32.add (local.get $x) (local.get $bytes)))
      (local.set $y (i32.add (local.get $y) (local.get $bytes)))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $row_loop))))

  ;; RMSNorm gradients over rows of D: dx = r·dy·w − x·r³·(Σ dy·w·x)/D, dw = Σ_rows dy·x·r,
  ;; r = 1/sqrt(mean(x²) + eps).
  (func (export "rms_norm_grad") (param $dy i32) (param $x i32) (param $w i32) (param $dx i32) (param $dw i32)
                                 (param $rows i32) (param $D i32) (param $eps f32)
    (local $row i32) (local $j i32) (local $bytes i32) (local $ss v128) (local $dot v128) (local $xv v128) (local $gv v128)
    (local $r f32) (local $c f32) (local $rv v128) (local $cv v128)
    (local.set $bytes (i32.shl (local.get $D) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $z (loop $zero
      (br_if $z (i32.ge_u (local.get $j) (local.get $bytes)))
      (v128.store (i32.add (local.get $dw) (local.get $j)) (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br $zero)))
    (local.set $row (i32.const 0))
    (block $rows_done (loop $row_loop
      (br_if $rows_done (i32.ge_u (local.get $row) (local.get $rows)))
      (local.set $ss (v128.const i32x4 0 0 0 0))
      (local.set $dot (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      (block $a (loop $sums
        (br_if $a (i32.ge_u (local.get $j) (local.get $bytes)))
        (local.set $xv (v128.load (i32.add (local.get $x) (local.get $j))))
        (local.set $ss (f32x4.add (local.get $ss) (f32x4.mul (local.get $xv) (local.get $xv))))
        (local.set $dot (f32x4.add (local.get $dot)
          (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $j))) (v128.load (i32.add (local.get $w) (local.get $j)))) (local.get $xv))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $sums)))
      (local.set $r (f32.div (f32.const 1) (f32.sqrt (f32.add (f32.div (call $hsum (local.get $ss)) (f32.convert_i32_u (local.get $D))) (local.get $eps)))))
      (local.set $c (f32.div (f32.mul (f32.mul (f32.mul (local.get $r) (local.get $r)) (local.get $r)) (call $hsum (local.get $dot))) (f32.convert_i32_u (local.get $D))))
      (local.set $rv (f32x4.splat (local.get $r)))
      (local.set $cv (f32x4.splat (local.get $c)))
      (local.set $j (i32.const 0))
      (block $b (loop $grads
        (br_if $b (i32.ge_u (local.get $j) (local.get $bytes)))
        (local.set $xv (v128.load (i32.add (local.get $x) (local.get $j))))
        (local.set $gv (v128.load (i32.add (local.get $dy) (local.get $j))))
        (v128.store (i32.add (local.get $dx) (local.get $j))
          (f32x4.sub
            (f32x4.mul (f32x4.mul (local.get $rv) (local.get $gv)) (v128.load (i32.add (local.get $w) (local.get $j))))
            (f32x4.mul (local.get $xv) (local.get $cv))))
        (v128.store (i32.add (local.get $dw) (local.get $j))
          (f32x4.add (v128.load (i32.add (local.get $dw) (local.get $j)))
            (f32x4.mul (f32x4.mul (local.get $gv) (local.get $xv)) (local.get $rv))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $grads)))
      (local.set $x (i32.add (local.get $x) (local.get $bytes)))
      (local.set $dy (i32.add (local.get $dy) (local.get $bytes)))
      (local.set $dx (i32.add (local.get $dx) (local.get $bytes)))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $row_loop))))

  ;; Rotary embedding of x [B, H, T, E] by cos/sin [B or 1, 1, T, E] ($cb: their batch):
  ;; forward [x₁c₁ − x₂s₁, x₂c₂ + x₁s₂]; inverse (its gradient) [x₁c₁ + x₂s₂, x₂c₂ − x₁s₁].
  (func (export "rotary") (param $x i32) (param $cos i32) (param $sin i32) (param $y i32)
                          (param $B i32) (param $H i32) (param $T i32) (param $E i32) (param $cb i32) (param $inverse i32)
    (local $b i32) (local $h i32) (local $t i32) (local $i i32) (local $half i32) (local $row i32)
    (local $o i32) (local $a i32) (local $x1 v128) (local $x2 v128) (local $c1 v128) (local $c2 v128) (local $s1 v128) (local $s2 v128)
    (local.set $half (i32.shl (local.get $E) (i32.const 1))) ;; E/2 floats = 2E bytes
    (local.set $row (i32.shl (local.get $E) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $B)))
      (local.set $h (i32.const 0))
      (block $hd (loop $hl
        (br_if $hd (i32.ge_u (local.get $h) (local.get $H)))
        (local.set $t (i32.const 0))
        (block $td (loop $tl
          (br_if $td (i32.ge_u (local.get $t) (local.get $T)))
          ;; o: byte offset of x[b, h, t, 0]; a: of cos[b or 0, 0, t, 0]
          (local.set $o (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $h)) (local.get $T)) (local.get $t)) (local.get $row)))
          (local.set $a (i32.mul (i32.add (i32.mul (select (i32.const 0) (local.get $b) (i32.eq (local.get $cb) (i32.const 1))) (local.get $T)) (local.get $t)) (local.get $row)))
          (local.set $i (i32.const 0))
          (block $id (loop $il
            (br_if $id (i32.ge_u (local.get $i) (local.get $half)))
            (local.set $x1 (v128.load (i32.add (i32.add (local.get $x) (local.get $o)) (local.get $i))))
            (local.set $x2 (v128.load (i32.add (i32.add (i32.add (local.get $x) (local.get $o)) (local.get $half)) (local.get $i))))
            (local.set $c1 (v128.load (i32.add (i32.add (local.get $cos) (local.get $a)) (local.get $i))))
            (local.set $c2 (v128.load (i32.add (i32.add (i32.add (local.get $cos) (local.get $a)) (local.get $half)) (local.get $i))))
            (local.set $s1 (v128.load (i32.add (i32.add (local.get $sin) (local.get $a)) (local.get $i))))
            (local.set $s2 (v128.load (i32.add (i32.add (i32.add (local.get $sin) (local.get $a)) (local.get $half)) (local.get $i))))
            (if (local.get $inverse)
              (then
                (v128.store (i32.add (i32.add (local.get $y) (local.get $o)) (local.get $i))
                  (f32x4.add (f32x4.mul (local.get $x1) (local.get $c1)) (f32x4.mul (local.get $x2) (local.get $s2))))
                (v128.store (i32.add (i32.add (i32.add (local.get $y) (local.get $o)) (local.get $half)) (local.get $i))
                  (f32x4.sub (f32x4.mul (local.get $x2) (local.get $c2)) (f32x4.mul (local.get $x1) (local.get $s1)))))
              (else
                (v128.store (i32.add (i32.add (local.get $y) (local.get $o)) (local.get $i))
                  (f32x4.sub (f32x4.mul (local.get $x1) (local.get $c1)) (f32x4.mul (local.get $x2) (local.get $s1))))
                (v128.store (i32.add (i32.add (i32.add (local.get $y) (local.get $o)) (local.get $half)) (local.get $i))
                  (f32x4.add (f32x4.mul (local.get $x2) (local.get $c2)) (f32x4.mul (local.get $x1) (local.get $s2))))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $il)))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br $tl)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl))))

  ;; The gradient of attention probabilities p = softmax(s·scale + mask) with respect to
  ;; the scores: ds = scale · p · (dp − Σ dp·p), per row of S.
  (func (export "masked_softmax_grad") (param $dp i32) (param $p i32) (param $ds i32) (param $rows i32) (param $S i32) (param $scale f32)
    (local $row i32) (local $j i32) (local $bytes i32) (local $vbytes i32) (local $dot v128) (local $dv v128) (local $sc v128) (local $d f32)
    (local.set $bytes (i32.shl (local.get $S) (i32.const 2)))
    (local.set $vbytes (i32.and (local.get $bytes) (i32.const -16)))
    (local.set $sc (f32x4.splat (local.get $scale)))
    (local.set $row (i32.const 0))
    (block $rd (loop $rl
      (br_if $rd (i32.ge_u (local.get $row) (local.get $rows)))
      (local.set $dot (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      (block $ad (loop $al
        (br_if $ad (i32.ge_u (local.get $j) (local.get $vbytes)))
        (local.set $dot (f32x4.add (local.get $dot)
          (f32x4.mul (v128.load (i32.add (local.get $dp) (local.get $j))) (v128.load (i32.add (local.get $p) (local.get $j))))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $al)))
      (local.set $d (call $hsum (local.get $dot)))
      (block $at (loop $atl
        (br_if $at (i32.ge_u (local.get $j) (local.get $bytes)))
        (local.set $d (f32.add (local.get $d)
          (f32.mul (f32.load (i32.add (local.get $dp) (local.get $j))) (f32.load (i32.add (local.get $p) (local.get $j))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $atl)))
      (local.set $dv (f32x4.splat (local.get $d)))
      (local.set $j (i32.const 0))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $j) (local.get $vbytes)))
        (v128.store (i32.add (local.get $ds) (local.get $j))
          (f32x4.mul (f32x4.mul (local.get $sc) (v128.load (i32.add (local.get $p) (local.get $j))))
            (f32x4.sub (v128.load (i32.add (local.get $dp) (local.get $j))) (local.get $dv))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $bl)))
      (block $bt (loop $btl
        (br_if $bt (i32.ge_u (local.get $j) (local.get $bytes)))
        (f32.store (i32.add (local.get $ds) (local.get $j))
          (f32.mul (f32.mul (local.get $scale) (f32.load (i32.add (local.get $p) (local.get $j))))
            (f32.sub (f32.load (i32.add (local.get $dp) (local.get $j))) (local.get $d))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $btl)))
      (local.set $dp (i32.add (local.get $dp) (local.get $bytes)))
      (local.set $p (i32.add (local.get $p) (local.get $bytes)))
      (local.set $ds (i32.add (local.get $ds) (local.get $bytes)))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rl))))

  ;; Row-wise log-sum-exp of logits [N, V] into lse [N].
  (func (export "log_sum_exp") (param $l i32) (param $lse i32) (param $N i32) (param $V i32)
    (local $row i32) (local $j i32) (local $bytes i32) (local $vbytes i32) (local $max v128) (local $sum v128) (local $mx v128) (local $m f32) (local $s f32)
    (local.set $bytes (i32.shl (local.get $V) (i32.const 2)))
    (local.set $vbytes (i32.and (local.get $bytes) (i32.const -16)))
    (local.set $row (i32.const 0))
    (block $rd (loop $rl
      (br_if $rd (i32.ge_u (local.get $row) (local.get $N)))
      (local.set $max (f32x4.splat (f32.const -inf)))
      (local.set $j (i32.const 0))
      (block $ad (loop $al
        (br_if $ad (i32.ge_u (local.get $j) (local.get $vbytes)))
        (local.set $max (f32x4.pmax (local.get $max) (v128.load (i32.add (local.get $l) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $al)))
      (local.set $m (call $hmax (local.get $max)))
      (block $at (loop $atl
        (br_if $at (i32.ge_u (local.get $j) (local.get $bytes)))
        (local.set $m (f32.max (local.get $m) (f32.load (i32.add (local.get $l) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $atl)))
      (local.set $mx (f32x4.splat (local.get $m)))
      (local.set $sum (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $j) (local.get $vbytes)))
        (local.set $sum (f32x4.add (local.get $sum) (call $exp (f32x4.sub (v128.load (i32.add (local.get $l) (local.get $j))) (local.get $mx)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $bl)))
      (local.set $s (call $hsum (local.get $sum)))
      (block $bt (loop $btl
        (br_if $bt (i32.ge_u (local.get $j) (local.get $bytes)))
        (local.set $s (f32.add (local.get $s)
          (f32x4.extract_lane 0 (call $exp (f32x4.sub (f32x4.splat (f32.load (i32.add (local.get $l) (local.get $j)))) (local.get $mx))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $btl)))
      (f32.store (i32.add (local.get $lse) (i32.shl (local.get $row) (i32.const 2)))
        (f32.add (local.get $m) (call $log (local.get $s))))
      (local.set $l (i32.add (local.get $l) (local.get $bytes)))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rl))))

  ;; Natural log of a positive float32 (≤ 1 ulp in the range used: sums of exponentials
  ;; in [1, V]): x = m·2^e with m in [√½, √2), log m = 2·atanh((m−1)/(m+1)) by its series.
  (func $log (param $x f32) (result f32)
    (local $bits i32) (local $e i32) (local $m f64) (local $z f64) (local $z2 f64)
    (local.set $bits (i32.reinterpret_f32 (local.get $x)))
    (local.set $e (i32.sub (i32.shr_u (local.get $bits) (i32.const 23)) (i32.const 127)))
    (local.set $m (f64.promote_f32 (f32.reinterpret_i32 (i32.or (i32.and (local.get $bits) (i32.const 0x007fffff)) (i32.const 0x3f800000)))))
    (if (f64.gt (local.get $m) (f64.const 1.4142135623730951))
      (then
        (local.set $m (f64.mul (local.get $m) (f64.const 0.5)))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))))
    (local.set $z (f64.div (f64.sub (local.get $m) (f64.const 1)) (f64.add (local.get $m) (f64.const 1))))
    (local.set $z2 (f64.mul (local.get $z) (local.get $z)))
    ;; series: 2z·(1 + z²/3 + z⁴/5 + z⁶/7 + z⁸/9 + z¹⁰/11), |z| ≤ 0.172
    (local.set $m (f64.add (f64.const 0.1111111111111111) (f64.mul (local.get $z2) (f64.const 0.09090909090909091))))
    (local.set $m (f64.add (f64.const 0.14285714285714285) (f64.mul (local.get $z2) (local.get $m))))
    (local.set $m (f64.add (f64.const 0.2) (f64.mul (local.get $z2) (local.get $m))))
    (local.set $m (f64.add (f64.const 0.3333333333333333) (f64.mul (local.get $z2) (local.get $m))))
    (local.set $m (f64.add (f64.const 1) (f64.mul (local.get $z2) (local.get $m))))
    (f32.demote_f64
      (f64.add
        (f64.mul (f64.convert_i32_s (local.get $e)) (f64.const 0.6931471805599453))
        (f64.mul (f64.mul (f64.const 2) (local.get $z)) (local.get $m)))))

  ;; d log p[target] / d logits = dy · (onehot(target) − e^(logits − lse)), rows of V;
  ;; targets are int32, out of range ones get no one-hot.
  (func (export "target_log_prob_grad") (param $dy i32) (param $l i32) (param $lse i32) (param $targets i32) (param $dl i32)
                                       (param $N i32) (param $V i32)
    (local $row i32) (local $j i32) (local $bytes i32) (local $vbytes i32) (local $g v128) (local $z v128) (local $t i32) (local $at i32)
    (local.set $bytes (i32.shl (local.get $V) (i32.const 2)))
    (local.set $vbytes (i32.and (local.get $bytes) (i32.const -16)))
    (local.set $row (i32.const 0))
    (block $rd (loop $rl
      (br_if $rd (i32.ge_u (local.get $row) (local.get $N)))
      (local.set $g (f32x4.splat (f32.neg (f32.load (i32.add (local.get $dy) (i32.shl (local.get $row) (i32.const 2)))))))
      (local.set $z (f32x4.splat (f32.load (i32.add (local.get $lse) (i32.shl (local.get $row) (i32.const 2))))))
      (local.set $j (i32.const 0))
      (block $ad (loop $al
        (br_if $ad (i32.ge_u (local.get $j) (local.get $vbytes)))
        (v128.store (i32.add (local.get $dl) (local.get $j))
          (f32x4.mul (local.get $g) (call $exp (f32x4.sub (v128.load (i32.add (local.get $l) (local.get $j))) (local.get $z)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $al)))
      (block $tt (loop $ttl
        (br_if $tt (i32.ge_u (local.get $j) (local.get $bytes)))
        (f32.store (i32.add (local.get $dl) (local.get $j))
          (f32x4.extract_lane 0 (f32x4.mul (local.get $g) (call $exp (f32x4.sub (f32x4.splat (f32.load (i32.add (local.get $l) (local.get $j)))) (local.get $z))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $ttl)))
      (local.set $t (i32.load (i32.add (local.get $targets) (i32.shl (local.get $row) (i32.const 2)))))
      (if (i32.and (i32.ge_s (local.get $t) (i32.const 0)) (i32.lt_s (local.get $t) (local.get $V)))
        (then
          (local.set $at (i32.add (local.get $dl) (i32.shl (local.get $t) (i32.const 2))))
          (f32.store (local.get $at)
            (f32.sub (f32.load (local.get $at)) (f32x4.extract_lane 0 (local.get $g))))))
      (local.set $l (i32.add (local.get $l) (local.get $bytes)))
      (local.set $dl (i32.add (local.get $dl) (local.get $bytes)))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rl))))

  ;; One AdamW step over n floats: g ← g·scale; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
  ;; p ← p − lr·((m/bc1)/(sqrt(v/bc2) + eps) + decay·p), into new buffers.
  (func (export "adamw") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $po i32) (param $mo i32) (param $vo i32) (param $n i32)
                         (param $lr f32) (param $b1 f32) (param $b2 f32) (param $eps f32) (param $decay f32) (param $bc1 f32) (param $bc2 f32) (param $scale f32)
    (local $i i32) (local $bytes i32) (local $gv v128) (local $mv v128) (local $vv v128) (local $pv v128)
    (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128) (local $LR v128) (local $EPS v128) (local $DEC v128)
    (local $IBC1 v128) (local $IBC2 v128) (local $SC v128)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $C1 (f32x4.splat (f32.sub (f32.const 1) (local.get $b1))))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C2 (f32x4.splat (f32.sub (f32.const 1) (local.get $b2))))
    (local.set $LR (f32x4.splat (local.get $lr)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $DEC (f32x4.splat (local.get $decay)))
    (local.set $IBC1 (f32x4.splat (local.get $bc1)))
    (local.set $IBC2 (f32x4.splat (local.get $bc2)))
    (local.set $SC (f32x4.splat (local.get $scale)))
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $bytes)))
      (local.set $gv (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $i))) (local.get $SC)))
      (local.set $mv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $B1)) (f32x4.mul (local.get $gv) (local.get $C1))))
      (local.set $vv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $B2))
                                (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $C2))))
      (local.set $pv (v128.load (i32.add (local.get $p) (local.get $i))))
      (v128.store (i32.add (local.get $mo) (local.get $i)) (local.get $mv))
      (v128.store (i32.add (local.get $vo) (local.get $i)) (local.get $vv))
      (v128.store (i32.add (local.get $po) (local.get $i))
        (f32x4.sub (local.get $pv)
          (f32x4.mul (local.get $LR)
            (f32x4.add
              (f32x4.div (f32x4.div (local.get $mv) (local.get $IBC1))
                         (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $IBC2))) (local.get $EPS)))
              (f32x4.mul (local.get $pv) (local.get $DEC))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l))))

  ;; Σ x² over n floats, accumulated in float64 (gradient norms over millions of values).
  (func (export "sum_squares") (param $x i32) (param $n i32) (result f64)
    (local $end i32) (local $v v128) (local $lo v128) (local $hi v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (local.set $v (f32x4.mul (local.get $v) (local.get $v)))
      (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
      (local.set $hi (f64x2.add (local.get $hi)
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (br $l)))
    (local.set $lo (f64x2.add (local.get $lo) (local.get $hi)))
    (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo))))
)
