package report

import (
	"fmt"
	"io"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/env2vault/env2vault/plan"
)

// textStyles colour the terminal report; the zero value prints plain.
type textStyles struct {
	on                                      bool
	title, dim, bold, warn, bad, good, head lipgloss.Style
}

func newTextStyles(color bool) textStyles {
	if !color {
		return textStyles{}
	}
	s := lipgloss.NewStyle()
	return textStyles{
		on:    true,
		title: s.Bold(true).Foreground(lipgloss.Magenta),
		dim:   s.Foreground(lipgloss.BrightBlack),
		bold:  s.Bold(true),
		warn:  s.Foreground(lipgloss.Yellow),
		bad:   s.Bold(true).Foreground(lipgloss.Red),
		good:  s.Foreground(lipgloss.Green),
		head:  s.Bold(true).Underline(true),
	}
}

func (t textStyles) r(st lipgloss.Style, s string) string {
	if !t.on || s == "" {
		return s
	}
	return st.Render(s)
}

func (t textStyles) action(a string) string {
	switch a {
	case plan.ActionCreate:
		return t.r(t.good, a)
	case plan.ActionUpdate:
		return t.r(t.warn, a)
	case plan.ActionConflict:
		return t.r(t.bad, a)
	default:
		return t.r(t.dim, a)
	}
}

// WriteText writes the terminal report: a summary, the inventory with
// each secret's rotation reasons and sources, and the phases' sizes.
// color turns on ANSI styling (callers pass true only for a terminal
// with NO_COLOR unset).
func WriteText(w io.Writer, p *plan.Plan, color bool) error {
	t := newTextStyles(color)
	sum := Summarize(p)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", t.r(t.title, "env2vault plan"), t.r(t.dim, p.ID))
	fmt.Fprintf(&b, "Backend: %s\n", BackendDesc(p.Backend))
	diff := p.DiffStatus
	if strings.HasPrefix(diff, "offline") {
		diff = t.r(t.warn, diff) + t.r(t.dim, " (every secret planned as create)")
	}
	fmt.Fprintf(&b, "Diff:    %s\n\n", diff)

	fmt.Fprintf(&b, "%s in %s, %s to rotate",
		t.r(t.bold, count(sum.Secrets, "secret", "secrets")), count(sum.Repos, "repo", "repos"),
		t.r(rotateStyle(t, sum.Rotate), fmt.Sprint(sum.Rotate)))
	if len(sum.Environments) > 0 {
		fmt.Fprintf(&b, " · environments %s", strings.Join(sum.Environments, ", "))
	}
	b.WriteString("\n")
	if len(sum.Actions) > 0 {
		parts := make([]string, len(sum.Actions))
		for i, a := range sum.Actions {
			parts[i] = fmt.Sprintf("%d %s", a.Count, t.action(a.Action))
		}
		fmt.Fprintf(&b, "Actions: %s\n", strings.Join(parts, ", "))
	}
	if len(p.Secrets) == 0 {
		b.WriteString("\nNothing to migrate: the scan found no secrets in .env files or code.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}

	cols := []string{"NAME", "ENV", "ACTION", "ROTATE", "OWNER", "LAST ROTATED", "TARGET"}
	rows := make([][]string, len(p.Secrets))
	for i, s := range p.Secrets {
		rows[i] = []string{s.Name, s.Environment, s.Action, yesNo(s.Rotate), s.Owner, s.LastRotated, plan.Reference(p.Backend, s.Target)}
	}
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = len(c)
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], lipgloss.Width(c))
		}
	}
	pad := func(s string, i int) string {
		if i == len(width)-1 {
			return s
		}
		return s + strings.Repeat(" ", width[i]-lipgloss.Width(s)+2)
	}
	b.WriteString("\n")
	for i, c := range cols {
		b.WriteString(t.r(t.head, c))
		if i < len(cols)-1 {
			b.WriteString(strings.Repeat(" ", width[i]-len(c)+2))
		}
	}
	b.WriteString("\n")
	for i, s := range p.Secrets {
		r := rows[i]
		cells := []string{
			t.r(t.bold, pad(r[0], 0)), pad(r[1], 1), t.action(pad(r[2], 2)),
			rotateCell(t, s.Rotate, pad(r[3], 3)), pad(r[4], 4), t.r(t.dim, pad(r[5], 5)), r[6],
		}
		b.WriteString(strings.TrimRight(strings.Join(cells, ""), " ") + "\n")
		for _, why := range s.Reasons {
			fmt.Fprintf(&b, "    %s %s\n", t.r(t.warn, "!"), why)
		}
		for _, src := range s.Sources {
			fmt.Fprintf(&b, "    %s %s\n", t.r(t.dim, "<-"), sourceText(src))
		}
	}

	b.WriteString("\n" + t.r(t.head, "PHASES") + "\n")
	for _, ph := range p.Phases {
		fmt.Fprintf(&b, "  %-15s %s\n", ph.Name, count(len(ph.Items), "item", "items"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func rotateStyle(t textStyles, n int) lipgloss.Style {
	if n > 0 {
		return t.bad
	}
	return t.good
}

func rotateCell(t textStyles, rotate bool, s string) string {
	if rotate {
		return t.r(t.bad, s)
	}
	return t.r(t.dim, s)
}

func count(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
