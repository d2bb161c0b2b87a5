package tui

import "charm.land/bubbles/v2/table"

// colSpec describes a table column for layoutColumns.
type colSpec struct {
	title string
	// min and pref are content widths (the table adds one space of padding
	// either side). A zero pref means the column takes what is left.
	min, pref int
	// keep ranks columns by importance: on a narrow terminal the lowest
	// are hidden first.
	keep int
}

// layoutColumns fits columns into width: hide the least important ones
// until their minimums fit, then grow each toward its preferred width in
// order of importance, and give the rest to the fill column.
func layoutColumns(width int, specs []colSpec) []table.Column {
	shown := make([]bool, len(specs))
	for i := range shown {
		shown[i] = true
	}
	need := func() int {
		n := 0
		for i, s := range specs {
			if shown[i] {
				n += s.min + 2
			}
		}
		return n
	}
	for need() > width {
		drop, lowest := -1, int(^uint(0)>>1)
		for i, s := range specs {
			if shown[i] && s.keep < lowest {
				drop, lowest = i, s.keep
			}
		}
		if drop < 0 || countTrue(shown) == 1 {
			break
		}
		shown[drop] = false
	}
	widths := make([]int, len(specs))
	left := width
	for i, s := range specs {
		if shown[i] {
			widths[i] = s.min
			left -= s.min + 2
		}
	}
	// Grow toward the preferred widths, most important first.
	for rank := maxKeep(specs); rank >= 0 && left > 0; rank-- {
		for i, s := range specs {
			if shown[i] && s.keep == rank && s.pref > widths[i] {
				g := min(s.pref-widths[i], left)
				widths[i] += g
				left -= g
			}
		}
	}
	for i, s := range specs {
		if shown[i] && s.pref == 0 && left > 0 {
			widths[i] += left
			left = 0
		}
	}
	cols := make([]table.Column, len(specs))
	for i, s := range specs {
		cols[i] = table.Column{Title: s.title, Width: widths[i]}
	}
	return cols
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

func maxKeep(specs []colSpec) int {
	m := 0
	for _, s := range specs {
		m = max(m, s.keep)
	}
	return m
}
