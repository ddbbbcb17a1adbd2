package summary

import (
	"math"
	"math/rand/v2"
	"testing"
)

// R's example (?wilcox.test): x − y for paired depression scores;
// wilcox.test(x, y, paired = TRUE, alternative = "greater") gives V = 40,
// p-value = 0.01953 (exact: 10 of 512 sign patterns reach W+ >= 40).
var rExample = func() []float64 {
	x := []float64{1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30}
	y := []float64{0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29}
	d := make([]float64, len(x))
	for i := range x {
		d[i] = x[i] - y[i]
	}
	return d
}()

func TestSignedRankExact(t *testing.T) {
	w, n, ties := signedRanks(rExample)
	if w != 40 || n != 9 || ties != 0 {
		t.Fatalf("W+ %v n %d ties %v, want 40 9 0", w, n, ties)
	}
	if p := SignedRankGreater(rExample); math.Abs(p-10.0/512) > 1e-12 {
		t.Errorf("p = %v, want 10/512 = 0.01953", p)
	}
	// The other direction: W+ = 45 − 40 = 5, P(W+ >= 5) = 1 − P(W+ <= 4) = 1 − 7/512.
	neg := make([]float64, len(rExample))
	for i, v := range rExample {
		neg[i] = -v
	}
	if p := SignedRankGreater(neg); math.Abs(p-(1-7.0/512)) > 1e-12 {
		t.Errorf("reverse p = %v, want %v", p, 1-7.0/512)
	}
}

// Two-sided 95%: for n = 9 the critical W is 5 (P(W <= 5) = 10/512 <=
// 0.025 < P(W <= 6) = 14/512), so the interval cuts 6 Walsh averages.
func TestCritical(t *testing.T) {
	if k := critical(9, 0.95); k != 6 {
		t.Errorf("critical(9, .95) = %d, want 6", k)
	}
	if k := critical(5, 0.95); k != 0 {
		t.Errorf("critical(5, .95) = %d, want 0: five pairs cannot bound a 95%% interval", k)
	}
	// Exact and normal agree closely where both apply.
	n := exactMax
	exact := critical(n, 0.95)
	nf := float64(n)
	approx := int(math.Floor(nf*(nf+1)/4 - 1.959964*math.Sqrt(nf*(nf+1)*(2*nf+1)/24)))
	if d := exact - approx; d < -2 || d > 2 {
		t.Errorf("n=%d: exact k %d, normal %d", n, exact, approx)
	}
}

func TestHodgesLehmann(t *testing.T) {
	est, lo, hi := HodgesLehmann(rExample, 0.95)
	// The median of the 45 Walsh averages, inside its interval.
	if !(lo <= est && est <= hi) || est < 0.3 || est > 0.6 {
		t.Errorf("estimate %v in [%v, %v]", est, lo, hi)
	}
	// A shift moves the estimate and the interval by the same amount.
	shifted := make([]float64, len(rExample))
	for i, v := range rExample {
		shifted[i] = v + 1
	}
	e2, l2, h2 := HodgesLehmann(shifted, 0.95)
	if math.Abs(e2-est-1) > 1e-9 || math.Abs(l2-lo-1) > 1e-9 || math.Abs(h2-hi-1) > 1e-9 {
		t.Errorf("shift by 1: %v [%v %v] -> %v [%v %v]", est, lo, hi, e2, l2, h2)
	}
	// Misses: +Inf on one side push the estimate up, never NaN.
	withMiss := append([]float64{math.Inf(1), math.Inf(1), math.Inf(-1)}, rExample...)
	e3, l3, h3 := HodgesLehmann(withMiss, 0.95)
	if math.IsNaN(e3) || math.IsNaN(l3) || math.IsNaN(h3) || e3 < est {
		t.Errorf("with misses: %v [%v %v]", e3, l3, h3)
	}
}

// The signed-rank test keeps its level: under the null (symmetric about 0)
// a one-sided test at 5% rejects about 5% of the time.
func TestSignedRankLevel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{12, 30, 80} {
		rej := 0
		const trials = 2000
		for range trials {
			d := make([]float64, n)
			for i := range d {
				d[i] = rng.NormFloat64()
			}
			if SignedRankGreater(d) < 0.05 {
				rej++
			}
		}
		if r := float64(rej) / trials; r > 0.07 || r < 0.02 {
			t.Errorf("n=%d: rejection rate %.3f under the null, want about 0.05", n, r)
		}
	}
}

func TestExactMiss(t *testing.T) {
	// 6 discordant pairs all against the candidate: 1/64.
	if p := exactGreater(6, 6); math.Abs(p-1.0/64) > 1e-12 {
		t.Errorf("p = %v, want 1/64", p)
	}
	if p := exactGreater(0, 0); p != 1 {
		t.Errorf("no discordant pair: p = %v", p)
	}
	if p := exactGreater(0, 5); math.Abs(p-1) > 1e-12 {
		t.Errorf("none against: p = %v", p)
	}
}
