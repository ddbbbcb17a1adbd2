package journal

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/coldstart/coldstart/harness/result"
)

// ReadManifest reads a run directory's manifest.
func ReadManifest(dir string) (result.Manifest, error) {
	var m result.Manifest
	p := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", p, err)
	}
	return m, nil
}

// Run is what a run directory holds, read back without touching anything:
// the manifest, the journal's records (and the warnings of a repaired torn
// line), and whether the run recorded itself as interrupted.
type Run struct {
	Dir         string
	Manifest    result.Manifest
	Records     []result.Record
	Warnings    []string
	Interrupted bool
	// Summary is summary.json as the run wrote it, raw: the parts that cannot
	// be recomputed from records (the harness's own cost) come from it.
	Summary json.RawMessage
}

// LoadRun reads a run directory. A run whose summary is missing (it died
// before writing one) counts as interrupted when it has fewer records than
// planned.
func LoadRun(dir string) (*Run, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	recs, warns, err := Read(filepath.Join(dir, RunsFile))
	if err != nil {
		return nil, err
	}
	r := &Run{Dir: dir, Manifest: m, Records: recs, Warnings: warns, Interrupted: len(recs) < m.Planned}
	if b, err := os.ReadFile(filepath.Join(dir, SummaryFile)); err == nil {
		var flag struct {
			Interrupted bool `json:"interrupted"`
		}
		if json.Unmarshal(b, &flag) == nil {
			r.Interrupted, r.Summary = flag.Interrupted, b
		}
	}
	return r, nil
}
