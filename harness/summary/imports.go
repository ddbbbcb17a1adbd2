package summary

import (
	"cmp"
	"slices"

	"github.com/coldstart/coldstart/harness/result"
)

// TopModules is how many modules an import summary keeps.
const TopModules = 15

// EstimateNote labels EstThrottledMS.
const EstimateNote = "estimate: throttled_ms of each diagnostic start × (import total / its ready_ms), median across starts; assumes throttling is spread evenly over the start"

// Imports summarizes the import-time profiles (PYTHONPROFILEIMPORTTIME) of a
// scenario's diagnostic starts. Diagnostic starts run with the profiler on,
// so their timings are not the scenario's.
type Imports struct {
	Starts int `json:"starts"` // diagnostic starts with a profile
	// TotalUSP50 is the median over starts of the summed self times.
	TotalUSP50 float64 `json:"total_us_p50"`
	// ReadyMSP50 is the scenario's measured p50 ready_ms; ShareOfReadyP50
	// is TotalUSP50 as a fraction of it (absent when that p50 is censored).
	ReadyMSP50      Value `json:"ready_ms_p50"`
	ShareOfReadyP50 Value `json:"share_of_ready_p50"`
	// DiagReadyMSP50 is the median ready_ms of the diagnostic starts that got ready.
	DiagReadyMSP50 Value `json:"diagnostic_ready_ms_p50"`
	// EstThrottledMS is an estimate of the CPU-quota throttling that fell inside imports.
	EstThrottledMS Value    `json:"est_throttled_in_imports_ms"`
	EstimateNote   string   `json:"estimate_note"`
	Malformed      int      `json:"malformed"` // unparsed profile lines, all starts
	Modules        []Module `json:"modules"`   // top TopModules by median cumulative time
}

// Module is one module's median import cost over the starts that imported it.
type Module struct {
	Name            string  `json:"name"`
	Starts          int     `json:"starts"`
	SelfUSP50       float64 `json:"self_us_p50"`
	CumulativeUSP50 float64 `json:"cumulative_us_p50"`
}

func median(v []float64) float64 { return round(percentile(v, 50)) }

func imports(diag []result.Record, readyP50 Value) *Imports {
	var totals, diagReady, est []float64
	self := map[string][]float64{}
	cum := map[string][]float64{}
	im := &Imports{EstimateNote: EstimateNote, Modules: []Module{}, ReadyMSP50: readyP50}
	for _, r := range diag {
		if r.Imports == nil {
			continue
		}
		im.Starts++
		im.Malformed += r.Imports.Malformed
		total := float64(r.Imports.TotalUS)
		totals = append(totals, total)
		for _, m := range r.Imports.Modules {
			self[m.Name] = append(self[m.Name], float64(m.SelfUS))
			cum[m.Name] = append(cum[m.Name], float64(m.CumulativeUS))
		}
		if r.Outcome == result.OK && r.ReadyMS != nil && *r.ReadyMS > 0 {
			diagReady = append(diagReady, *r.ReadyMS)
			if r.Cgroup != nil {
				share := min(total/1000 / *r.ReadyMS, 1)
				est = append(est, r.Cgroup.ThrottledMS*share)
			}
		}
	}
	if im.Starts == 0 {
		return nil
	}
	im.TotalUSP50 = median(totals)
	if readyP50.Known && readyP50.V > 0 {
		im.ShareOfReadyP50 = Num(round(im.TotalUSP50 / 1000 / readyP50.V))
	}
	if len(diagReady) > 0 {
		im.DiagReadyMSP50 = Num(median(diagReady))
	}
	if len(est) > 0 {
		im.EstThrottledMS = Num(median(est))
	}
	for name, c := range cum {
		im.Modules = append(im.Modules, Module{
			Name:            name,
			Starts:          len(c),
			SelfUSP50:       median(self[name]),
			CumulativeUSP50: median(c),
		})
	}
	slices.SortFunc(im.Modules, func(a, b Module) int {
		return cmp.Or(cmp.Compare(b.CumulativeUSP50, a.CumulativeUSP50), cmp.Compare(a.Name, b.Name))
	})
	if len(im.Modules) > TopModules {
		im.Modules = im.Modules[:TopModules]
	}
	return im
}
