package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
)

// exportStep shows the per-phase checklists and exports everything.
type exportStep struct {
	phase   int
	vp      viewport.Model
	form    *huh.Form
	dir     string
	written []string
}

// exportDoneMsg ends an export.
type exportDoneMsg struct {
	files []string
	err   error
}

func (m *Model) startExport() tea.Cmd {
	m.export = exportStep{vp: viewport.New(), dir: m.settings.OutDir}
	m.goTo(stepExport)
	return nil
}

func (s *exportStep) resize(m *Model) {
	s.vp.SetWidth(max(m.width, 20))
	written := 0
	if len(s.written) > 0 {
		written = len(s.written) + 2
	}
	s.vp.SetHeight(max(m.bodyHeight()-3-written, 3))
	s.showPhase(m)
}

// showPhase loads the selected phase's checklist into the viewport.
func (s *exportStep) showPhase(m *Model) {
	if m.p == nil || len(m.p.Phases) == 0 {
		s.vp.SetContent("")
		return
	}
	ph := m.p.Phases[s.phase]
	var lines []string
	for _, it := range ph.Items {
		l := "[ ] " + it.Text
		var about []string
		if it.Secret != "" {
			about = append(about, it.Secret)
		}
		if it.Repo != "" {
			about = append(about, it.Repo)
		}
		if len(about) > 0 {
			l += m.st.Muted.Render("  (" + strings.Join(about, ", ") + ")")
		}
		if it.BestPractice {
			l += m.st.Muted.Render("  [best practice]")
		}
		lines = append(lines, wrapIndent(l, m.width, 4)...)
	}
	if len(lines) == 0 {
		lines = []string{"Nothing to do in this phase."}
	}
	s.vp.SetContentLines(lines)
}

func (s *exportStep) update(m *Model, msg tea.Msg) tea.Cmd {
	if s.form != nil {
		f, cmd := s.form.Update(msg)
		s.form = f.(*huh.Form)
		if s.form.State == huh.StateCompleted {
			s.form = nil
			return s.export(m)
		}
		if s.form.State == huh.StateAborted {
			s.form = nil
		}
		return cmd
	}
	switch msg := msg.(type) {
	case exportDoneMsg:
		m.busy = ""
		if msg.err != nil {
			m.fail(fmt.Errorf("export failed: %w", msg.err))
			return nil
		}
		s.written = msg.files
		s.resize(m)
		m.note = fmt.Sprintf("✓ exported %d file(s). Press q to finish.", len(msg.files))
		return nil
	case tea.KeyPressMsg:
		if m.busy != "" {
			return nil
		}
		phases := 0
		if m.p != nil {
			phases = len(m.p.Phases)
		}
		switch {
		case key.Matches(msg, m.keys.Finish):
			m.quitting = true
			return tea.Quit
		case key.Matches(msg, m.keys.Export):
			return s.ask(m)
		case phases > 0 && key.Matches(msg, m.keys.NextTab):
			s.phase = (s.phase + 1) % phases
			s.vp.GotoTop()
			s.showPhase(m)
		case phases > 0 && key.Matches(msg, m.keys.PrevTab):
			s.phase = (s.phase + phases - 1) % phases
			s.vp.GotoTop()
			s.showPhase(m)
		case key.Matches(msg, m.keys.Down):
			s.vp.ScrollDown(1)
		case key.Matches(msg, m.keys.Up):
			s.vp.ScrollUp(1)
		}
	}
	return nil
}

// ask opens the folder form.
func (s *exportStep) ask(m *Model) tea.Cmd {
	s.form = huh.NewForm(huh.NewGroup(
		huh.NewInput().Key("dir").Title("Export to folder").
			Description("Plan, reports and one Markdown checklist per phase. Created if missing.").
			Value(&s.dir).
			Validate(func(v string) error {
				if strings.TrimSpace(v) == "" {
					return errors.New("name a folder")
				}
				return nil
			}),
	)).WithShowHelp(false).WithTheme(m.st.form()).WithWidth(min(m.width, 80))
	return s.form.Init()
}

// export writes the files.
func (s *exportStep) export(m *Model) tea.Cmd {
	if m.svc.Export == nil {
		m.fail(errMissing("exporting"))
		return nil
	}
	exp, dir, res, p := m.svc.Export, strings.TrimSpace(s.dir), m.result, m.p
	s.dir = dir
	return m.run("exporting to "+dir, func(ctx context.Context, _ func(tea.Msg)) tea.Msg {
		files, err := exp(ctx, dir, res, p)
		return exportDoneMsg{files: files, err: err}
	})
}

func (s *exportStep) bindings(m *Model) []key.Binding {
	if s.form != nil {
		return s.form.KeyBinds()
	}
	phase := m.keys.Switch
	phase.SetHelp("←/→", "phase")
	return []key.Binding{m.keys.Export, m.keys.Finish, phase, m.keys.Move}
}

func (s *exportStep) view(m *Model) string {
	var b strings.Builder
	if s.form != nil {
		return s.form.View()
	}
	if m.p == nil || len(m.p.Phases) == 0 {
		b.WriteString("No plan to export.\n")
	} else {
		var tabs []string
		for i, ph := range m.p.Phases {
			label := fmt.Sprintf("%d %s (%d)", i+1, ph.Name, len(ph.Items))
			if i == s.phase {
				tabs = append(tabs, m.st.Title.Render("["+label+"]"))
			} else {
				tabs = append(tabs, m.st.Muted.Render(" "+label+" "))
			}
		}
		b.WriteString(strings.Join(tabs, " ") + "\n\n")
		b.WriteString(s.vp.View() + "\n")
	}
	if len(s.written) > 0 {
		b.WriteString("\nWritten to " + s.dir + ":\n")
		for _, f := range s.written {
			b.WriteString("  " + f + "\n")
		}
	}
	return b.String()
}
