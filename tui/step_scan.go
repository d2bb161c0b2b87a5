package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/env2vault/env2vault/discover"
)

// rootsStep asks which folders to scan.
type rootsStep struct {
	form *huh.Form
	text string
}

func (s *rootsStep) init(m *Model) {
	s.text = strings.Join(m.settings.Roots, ", ")
	s.form = huh.NewForm(huh.NewGroup(
		huh.NewInput().Key("roots").
			Title("Folders to scan").
			Description("Comma-separated. Each folder may be one repository or hold many.").
			Value(&s.text).
			Validate(func(v string) error {
				if len(splitRoots(v)) == 0 {
					return errors.New("name at least one folder")
				}
				return nil
			}),
	)).WithShowHelp(false).WithTheme(m.st.form()).WithWidth(min(m.width, 80))
}

// splitRoots parses the comma-separated folder list.
func splitRoots(v string) []string {
	var out []string
	for _, r := range strings.Split(v, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func (s *rootsStep) update(m *Model, msg tea.Msg) tea.Cmd {
	f, cmd := s.form.Update(msg)
	s.form = f.(*huh.Form)
	if s.form.State == huh.StateCompleted {
		return m.startScan(splitRoots(s.text))
	}
	return cmd
}

func (s *rootsStep) view(m *Model) string {
	return s.form.View() + "\n\n" + m.st.Muted.Render("Nothing leaves this machine during the scan. Values are never shown: at most a provider prefix.")
}

// scanStep shows a running scan.
type scanStep struct {
	roots    []string
	progress ScanProgress
}

// scanDoneMsg ends a scan.
type scanDoneMsg struct {
	res *discover.Result
	err error
}

func (m *Model) startScan(roots []string) tea.Cmd {
	m.scan = scanStep{roots: roots}
	m.goTo(stepScan)
	if m.svc.Scan == nil {
		m.fail(errMissing("scanning"))
		return nil
	}
	scan := m.svc.Scan
	return m.run("scanning "+strings.Join(roots, ", "), func(ctx context.Context, report func(tea.Msg)) tea.Msg {
		res, err := scan(ctx, roots, func(p ScanProgress) { report(p) })
		return scanDoneMsg{res: res, err: err}
	})
}

func (s *scanStep) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case ScanProgress:
		s.progress = msg
	case scanDoneMsg:
		m.busy = ""
		if msg.err != nil {
			m.fail(fmt.Errorf("scan failed: %w (press r to retry)", msg.err))
			return nil
		}
		m.result = msg.res
		m.findings.load(m)
		m.goTo(stepFindings)
		return nil
	case tea.KeyPressMsg:
		if m.busy == "" && key.Matches(msg, m.keys.Retry) {
			return m.startScan(s.roots)
		}
	}
	return nil
}

func (s *scanStep) view(m *Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scanning %s\n\n", strings.Join(s.roots, ", "))
	fmt.Fprintf(&b, "  %s files read\n", m.st.Key.Render(fmt.Sprint(s.progress.Files)))
	fmt.Fprintf(&b, "  %s secrets so far\n", m.st.Key.Render(fmt.Sprint(s.progress.Findings)))
	if s.progress.Current != "" {
		fmt.Fprintf(&b, "\n  %s\n", m.st.Muted.Render(truncate(s.progress.Current, m.width-4)))
	}
	return b.String()
}

// truncate shortens s to n columns with an ellipsis in the middle, which
// keeps both the start and the file name of a long path.
func truncate(s string, n int) string {
	r := []rune(s)
	if n < 5 || len(r) <= n {
		return s
	}
	half := (n - 1) / 2
	return string(r[:half]) + "…" + string(r[len(r)-(n-1-half):])
}
