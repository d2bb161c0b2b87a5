package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"

	"github.com/env2vault/env2vault/plan"
)

// planStep reviews the migration plan: inventory, rotation, phases.
type planStep struct {
	table table.Model
}

// planDoneMsg ends plan building.
type planDoneMsg struct {
	p   *plan.Plan
	err error
}

func (m *Model) startPlan() tea.Cmd {
	m.p = nil
	m.plan = planStep{table: table.New(table.WithFocused(true), table.WithStyles(m.st.table()))}
	m.goTo(stepPlan)
	if m.svc.Plan == nil {
		m.fail(errMissing("planning"))
		return nil
	}
	build, res, b := m.svc.Plan, m.findings.reviewed(m.result), m.backend.settings()
	return m.run("building the plan", func(ctx context.Context, _ func(tea.Msg)) tea.Msg {
		p, err := build(ctx, res, b)
		return planDoneMsg{p: p, err: err}
	})
}

func (s *planStep) resize(m *Model) {
	w := m.width
	s.table.SetColumns(layoutColumns(w, []colSpec{
		{title: "Secret", min: 16, pref: 30, keep: 9},
		{title: "Service", min: 7, pref: 10, keep: 3},
		{title: "Env", min: 7, pref: 11, keep: 5},
		{title: "Target", min: 16, keep: 7},
		{title: "Rotate", min: 6, pref: 6, keep: 8},
	}))
	s.table.SetWidth(w)
	s.table.SetHeight(max(m.bodyHeight()-9, 3))
	if m.p == nil {
		return
	}
	var rows []table.Row
	for _, sec := range m.p.Secrets {
		rot := "no"
		if sec.Rotate {
			rot = "YES"
		}
		rows = append(rows, table.Row{sec.Name, dash(sec.Service), dash(sec.Environment), plan.Reference(m.p.Backend, sec.Target), rot})
	}
	s.table.SetRows(rows)
}

func (s *planStep) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case planDoneMsg:
		m.busy = ""
		if msg.err != nil {
			m.fail(fmt.Errorf("could not build the plan: %w (press r to retry)", msg.err))
			return nil
		}
		m.p = msg.p
		s.resize(m)
		return nil
	case tea.KeyPressMsg:
		if m.busy != "" {
			return nil
		}
		switch {
		case m.p == nil && key.Matches(msg, m.keys.Retry):
			return m.startPlan()
		case m.p != nil && key.Matches(msg, m.keys.Continue):
			return m.startDryRun()
		}
	}
	var cmd tea.Cmd
	s.table, cmd = s.table.Update(msg)
	return cmd
}

func (s *planStep) view(m *Model) string {
	p := m.p
	if p == nil {
		return ""
	}
	var b strings.Builder
	rotate := 0
	for _, sec := range p.Secrets {
		if sec.Rotate {
			rotate++
		}
	}
	fmt.Fprintf(&b, "%d secrets · %d to rotate · %d repos · backend %s\n", len(p.Secrets), rotate, len(p.Repos), describeBackend(p.Backend))
	if len(p.Secrets) == 0 {
		b.WriteString("\nThe plan is empty: nothing to migrate. Press enter to continue.\n")
		return b.String()
	}
	b.WriteString(s.table.View() + "\n")
	if c := s.table.Cursor(); c >= 0 && c < len(p.Secrets) {
		sec := p.Secrets[c]
		b.WriteString(m.st.Muted.Render(fmt.Sprintf("%s: %s · env var %s · %d source(s) · owner %s", sec.Name, dash(sec.Purpose), dash(sec.EnvVar), len(sec.Sources), dash(sec.Owner))) + "\n")
		if sec.Rotate {
			b.WriteString(m.st.Warn.Render("Rotate: "+strings.Join(sec.Reasons, "; ")) + "\n")
		} else {
			b.WriteString("Rotate: not needed\n")
		}
	}
	b.WriteString("\nPhases: ")
	var ph []string
	for i, phase := range p.Phases {
		ph = append(ph, fmt.Sprintf("%d %s (%d tasks)", i+1, phase.Name, len(phase.Items)))
	}
	b.WriteString(strings.Join(ph, " → ") + "\n")
	return b.String()
}
