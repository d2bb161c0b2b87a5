package envsite

import (
	"fmt"
	"sort"
)

// Patch replaces src[Start:End] with Text (an insertion when Start ==
// End).
type Patch struct {
	Start, End uint
	Text       string
}

// Splice applies patches to src. Patches must not overlap; insertions at
// the same offset keep their given order.
func Splice(src []byte, patches []Patch) ([]byte, error) {
	ps := append([]Patch(nil), patches...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Start < ps[j].Start })
	out := make([]byte, 0, len(src)+64*len(ps))
	var at uint
	for _, p := range ps {
		if p.Start < at || p.End < p.Start || p.End > uint(len(src)) {
			return nil, fmt.Errorf("overlapping edits at byte %d (a bug in env2vault)", p.Start)
		}
		out = append(out, src[at:p.Start]...)
		out = append(out, p.Text...)
		at = p.End
	}
	return append(out, src[at:]...), nil
}
