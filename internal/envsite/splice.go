package envsite

import (
	"fmt"
	"sort"

	ts "github.com/tree-sitter/go-tree-sitter"
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

// LineStart returns the offset of the first byte of the line holding
// src[at].
func LineStart(src []byte, at uint) uint {
	for at > 0 && src[at-1] != '\n' {
		at--
	}
	return at
}

// LineEnd returns the offset of the newline ending the line holding
// src[at], or len(src) on the last line.
func LineEnd(src []byte, at uint) uint {
	for at < uint(len(src)) && src[at] != '\n' {
		at++
	}
	return at
}

// ContainsAny reports whether n spans any of nodes (or is one of them).
func ContainsAny(n *ts.Node, nodes []*ts.Node) bool {
	for _, e := range nodes {
		if n.StartByte() <= e.StartByte() && e.EndByte() <= n.EndByte() {
			return true
		}
	}
	return false
}
