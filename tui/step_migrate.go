package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/env2vault/env2vault/plan"
)

// dryRunStep shows what a push would do, then asks to confirm.
type dryRunStep struct {
	rows       []DiffRow
	table      table.Model
	confirming bool
}

// diffDoneMsg ends a dry run.
type diffDoneMsg struct {
	rows []DiffRow
	err  error
}

func (m *Model) startDryRun() tea.Cmd {
	if m.p == nil || len(m.p.Secrets) == 0 {
		return m.startRewrite()
	}
	m.dry = dryRunStep{table: table.New(table.WithFocused(true), table.WithStyles(m.st.table()))}
	m.goTo(stepDryRun)
	if m.svc.Diff == nil {
		m.fail(errMissing("the dry run"))
		return nil
	}
	diff, be, p := m.svc.Diff, m.be, m.p
	return m.run("comparing the plan with the backend", func(ctx context.Context, _ func(tea.Msg)) tea.Msg {
		rows, err := diff(ctx, be, p)
		return diffDoneMsg{rows: rows, err: err}
	})
}

// actionColumns are the columns of the dry-run and push tables.
func actionColumns(w int) []table.Column {
	return layoutColumns(w, []colSpec{
		{title: "Secret", min: 16, pref: 30, keep: 9},
		{title: "Action", min: 9, pref: 9, keep: 8},
		{title: "Target", min: 16, pref: 56, keep: 5},
		{title: "Detail", min: 10, keep: 3},
	})
}

func actionRows(rows []DiffRow) []table.Row {
	out := make([]table.Row, 0, len(rows))
	for _, r := range rows {
		out = append(out, table.Row{r.Secret, r.Action, r.Target, dash(r.Detail)})
	}
	return out
}

// countActions tallies rows by action, in a fixed order.
func countActions(rows []DiffRow) string {
	n := map[string]int{}
	for _, r := range rows {
		n[r.Action]++
	}
	var parts []string
	for _, a := range []string{plan.ActionCreate, plan.ActionUpdate, plan.ActionNoop, plan.ActionConflict} {
		parts = append(parts, fmt.Sprintf("%s %d", a, n[a]))
	}
	return strings.Join(parts, " · ")
}

func (s *dryRunStep) resize(m *Model) {
	s.table.SetColumns(actionColumns(m.width))
	s.table.SetWidth(m.width)
	s.table.SetHeight(max(m.bodyHeight()-6, 3))
	s.table.SetRows(actionRows(s.rows))
}

func (s *dryRunStep) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case diffDoneMsg:
		m.busy = ""
		if msg.err != nil {
			m.fail(fmt.Errorf("dry run failed: %w (press r to retry)", msg.err))
			return nil
		}
		s.rows = msg.rows
		s.resize(m)
		return nil
	case tea.KeyPressMsg:
		if m.busy != "" {
			return nil
		}
		switch {
		case s.confirming && key.Matches(msg, m.keys.Yes):
			s.confirming = false
			return m.startPush()
		case s.confirming && key.Matches(msg, m.keys.No):
			s.confirming = false
			return nil
		case s.confirming:
			return nil
		case s.rows == nil && key.Matches(msg, m.keys.Retry):
			return m.startDryRun()
		case s.rows != nil && key.Matches(msg, m.keys.Push):
			s.confirming = true
			return nil
		}
	}
	var cmd tea.Cmd
	s.table, cmd = s.table.Update(msg)
	return cmd
}

func (s *dryRunStep) bindings(m *Model) []key.Binding {
	switch {
	case s.confirming:
		return []key.Binding{m.keys.Yes, m.keys.No}
	case s.rows == nil:
		return []key.Binding{m.keys.Retry}
	}
	return []key.Binding{m.keys.Push, m.keys.Move}
}

func (s *dryRunStep) view(m *Model) string {
	if s.rows == nil {
		return "Reading the backend to see what would change. Nothing is written.\n"
	}
	var b strings.Builder
	b.WriteString("Dry run (nothing written yet): " + countActions(s.rows) + "\n\n")
	b.WriteString(s.table.View() + "\n\n")
	writes := 0
	for _, r := range s.rows {
		if r.Action == plan.ActionCreate || r.Action == plan.ActionUpdate {
			writes++
		}
	}
	if s.confirming {
		b.WriteString(m.st.Warn.Render(fmt.Sprintf("Write %d secret(s) to %s? (y/n)", writes, describeBackend(m.p.Backend))))
	} else {
		b.WriteString(fmt.Sprintf("Press p to push %d secret(s). Conflicts are never overwritten.", writes))
	}
	return b.String()
}

// pushStep runs the migration and shows each secret's outcome, verified
// by reading it back.
type pushStep struct {
	bar      progress.Model
	progress MigrateProgress
	result   *MigrateResult
	table    table.Model
}

// pushDoneMsg ends a push.
type pushDoneMsg struct {
	res MigrateResult
	err error
}

func (m *Model) startPush() tea.Cmd {
	opts := []progress.Option{progress.WithWidth(min(max(m.width-20, 20), 60))}
	if !m.st.color {
		opts = append(opts, progress.WithColors(lipgloss.NoColor{}), progress.WithFillCharacters('#', '.'))
	}
	bar := progress.New(opts...)
	if !m.st.color {
		bar.EmptyColor = lipgloss.NoColor{}
	}
	m.push = pushStep{bar: bar, table: table.New(table.WithFocused(true), table.WithStyles(m.st.table()))}
	m.push.progress.Total = len(m.p.Secrets)
	m.goTo(stepPush)
	if m.svc.Migrate == nil {
		m.fail(errMissing("migrating"))
		return nil
	}
	migr, be, p := m.svc.Migrate, m.be, m.p
	return m.run("pushing secrets", func(ctx context.Context, report func(tea.Msg)) tea.Msg {
		res, err := migr(ctx, be, p, func(pr MigrateProgress) { report(pr) })
		return pushDoneMsg{res: res, err: err}
	})
}

func (s *pushStep) resize(m *Model) {
	s.bar.SetWidth(min(max(m.width-20, 20), 60))
	s.table.SetColumns(layoutColumns(m.width, []colSpec{
		{title: "Secret", min: 16, pref: 30, keep: 9},
		{title: "Action", min: 9, pref: 9, keep: 8},
		{title: "Verified", min: 8, pref: 8, keep: 7},
		{title: "Target", min: 16, pref: 48, keep: 4},
		{title: "Detail", min: 10, keep: 5},
	}))
	s.table.SetWidth(m.width)
	s.table.SetHeight(max(m.bodyHeight()-7, 3))
	if s.result == nil {
		return
	}
	var rows []table.Row
	for _, r := range s.result.Rows {
		v := "no"
		if r.Verified {
			v = "yes"
		}
		rows = append(rows, table.Row{r.Secret, r.Action, v, r.Target, dash(r.Detail)})
	}
	s.table.SetRows(rows)
}

func (s *pushStep) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case MigrateProgress:
		s.progress = msg
	case pushDoneMsg:
		m.busy = ""
		s.result = &msg.res
		if msg.err != nil {
			m.fail(fmt.Errorf("push stopped: %w. Finished secrets are kept; run again to resume", msg.err))
		} else {
			s.progress.Done = s.progress.Total
		}
		s.resize(m)
		return nil
	case tea.KeyPressMsg:
		if m.busy != "" || s.result == nil {
			return nil
		}
		if key.Matches(msg, m.keys.Continue) {
			return m.startRewrite()
		}
	}
	var cmd tea.Cmd
	s.table, cmd = s.table.Update(msg)
	return cmd
}

func (s *pushStep) bindings(m *Model) []key.Binding {
	if s.result == nil {
		return nil
	}
	return []key.Binding{m.keys.Continue, m.keys.Move}
}

func (s *pushStep) view(m *Model) string {
	var b strings.Builder
	pct := 0.0
	if s.progress.Total > 0 {
		pct = float64(s.progress.Done) / float64(s.progress.Total)
	}
	fmt.Fprintf(&b, "%s  %d/%d\n", s.bar.ViewAs(pct), s.progress.Done, s.progress.Total)
	if s.result == nil {
		if s.progress.Secret != "" {
			fmt.Fprintf(&b, "%s: %s\n", s.progress.Secret, s.progress.Action)
		}
		b.WriteString("\n" + m.st.Muted.Render("Ctrl+C stops after the current secret; the journal lets a later run resume.") + "\n")
		return b.String()
	}
	r := s.result
	fmt.Fprintf(&b, "created %d · updated %d · unchanged %d · conflicts %d · failed %d\n", r.Created, r.Updated, r.Unchanged, r.Conflicts, r.Failed)
	verified := 0
	for _, row := range r.Rows {
		if row.Verified {
			verified++
		}
	}
	switch {
	case r.Conflicts > 0 || r.Failed > 0:
		b.WriteString(m.st.Err.Render(fmt.Sprintf("✗ %d secret(s) not migrated: conflicting secrets are left as they are in the backend. Resolve them there, then run again.", r.Conflicts+r.Failed)) + "\n")
	case verified == len(r.Rows):
		b.WriteString(m.st.OK.Render(fmt.Sprintf("✓ Verified: all %d secret(s) read back from the backend and matched by fingerprint.", verified)) + "\n")
	default:
		b.WriteString(m.st.Warn.Render(fmt.Sprintf("%d of %d secret(s) verified by reading them back.", verified, len(r.Rows))) + "\n")
	}
	b.WriteString("\n" + s.table.View() + "\n")
	b.WriteString("\nPress enter to review the code rewrite.")
	return b.String()
}
