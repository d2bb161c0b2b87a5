package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
)

// rewriteStep reviews the rewrite file by file, then applies the
// accepted files.
type rewriteStep struct {
	changes *Changes
	cursor  int
	skip    map[int]bool
	vp      viewport.Model
	applied []string
	// verify holds the checks run after applying (nil until they ran).
	verify []VerifyRow
}

// verifyDoneMsg ends the verification after the rewrite.
type verifyDoneMsg struct {
	rows []VerifyRow
	err  error
}

// rewriteReadyMsg ends rewrite preparation.
type rewriteReadyMsg struct {
	changes *Changes
	err     error
}

// applyDoneMsg ends applying the rewrite.
type applyDoneMsg struct {
	applied []string
	err     error
}

// listHeight is how many file names the rewrite screen lists at once.
const listHeight = 6

func (m *Model) startRewrite() tea.Cmd {
	m.rewrite = rewriteStep{skip: map[int]bool{}, vp: viewport.New()}
	m.goTo(stepRewrite)
	if m.svc.Rewrite == nil || m.p == nil {
		m.fail(errMissing("rewriting"))
		return nil
	}
	prep, p := m.svc.Rewrite, m.p
	return m.run("preparing the rewrite", func(ctx context.Context, _ func(tea.Msg)) tea.Msg {
		c, err := prep(ctx, p)
		return rewriteReadyMsg{changes: c, err: err}
	})
}

func (s *rewriteStep) resize(m *Model) {
	s.vp.SetWidth(max(m.width, 20))
	s.vp.SetHeight(max(m.bodyHeight()-listHeight-4, 3))
	s.showDiff(m)
}

// showDiff loads the selected file's diff into the viewport.
func (s *rewriteStep) showDiff(m *Model) {
	if s.changes == nil || len(s.changes.Files) == 0 {
		s.vp.SetContent("")
		return
	}
	lines := strings.Split(strings.TrimRight(s.changes.Files[s.cursor].Diff, "\n"), "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			lines[i] = m.st.Title.Render(l)
		case strings.HasPrefix(l, "@@"):
			lines[i] = m.st.Hunk.Render(l)
		case strings.HasPrefix(l, "+"):
			lines[i] = m.st.Added.Render(l)
		case strings.HasPrefix(l, "-"):
			lines[i] = m.st.Removed.Render(l)
		}
	}
	s.vp.SetContentLines(lines)
}

func (s *rewriteStep) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case rewriteReadyMsg:
		m.busy = ""
		if msg.err != nil {
			m.fail(fmt.Errorf("could not prepare the rewrite: %w (press r to retry, enter to skip)", msg.err))
			return nil
		}
		s.changes = msg.changes
		s.resize(m)
		return nil
	case applyDoneMsg:
		m.busy = ""
		if msg.err != nil {
			m.fail(fmt.Errorf("rewrite failed: %w. Files are written atomically: none is half-written", msg.err))
			return nil
		}
		s.applied = msg.applied
		if s.applied == nil {
			s.applied = []string{}
		}
		return s.startVerify(m)
	case verifyDoneMsg:
		m.busy = ""
		if msg.err != nil {
			m.fail(fmt.Errorf("verification could not run: %w", msg.err))
			return nil
		}
		s.verify = msg.rows
		if s.verify == nil {
			s.verify = []VerifyRow{}
		}
		s.showVerify(m)
		return nil
	case tea.KeyPressMsg:
		if m.busy != "" {
			return nil
		}
		switch {
		case s.changes == nil && key.Matches(msg, m.keys.Retry):
			return m.startRewrite()
		case key.Matches(msg, m.keys.Continue) && (s.changes == nil || s.applied != nil || len(s.changes.Files) == 0):
			return m.startExport()
		case s.applied != nil && key.Matches(msg, m.keys.PageDown):
			s.vp.PageDown()
		case s.applied != nil && key.Matches(msg, m.keys.PageUp):
			s.vp.PageUp()
		case s.changes == nil || s.applied != nil || len(s.changes.Files) == 0:
			return nil
		case key.Matches(msg, m.keys.Up):
			s.cursor = max(s.cursor-1, 0)
			s.vp.GotoTop()
			s.showDiff(m)
		case key.Matches(msg, m.keys.Down):
			s.cursor = min(s.cursor+1, len(s.changes.Files)-1)
			s.vp.GotoTop()
			s.showDiff(m)
		case key.Matches(msg, m.keys.Toggle):
			s.skip[s.cursor] = !s.skip[s.cursor]
		case key.Matches(msg, m.keys.PageDown):
			s.vp.PageDown()
		case key.Matches(msg, m.keys.PageUp):
			s.vp.PageUp()
		case key.Matches(msg, m.keys.Apply):
			return s.apply(m)
		}
		return nil
	}
	return nil
}

// apply writes the accepted files.
func (s *rewriteStep) apply(m *Model) tea.Cmd {
	accept := map[string]bool{}
	for i, f := range s.changes.Files {
		if !s.skip[i] {
			accept[f.Key()] = true
		}
	}
	if len(accept) == 0 {
		s.applied = []string{}
		return s.startVerify(m)
	}
	apply := s.changes.Apply
	return m.run(fmt.Sprintf("rewriting %d file(s)", len(accept)), func(ctx context.Context, _ func(tea.Msg)) tea.Msg {
		applied, err := apply(ctx, func(k string) bool { return accept[k] })
		return applyDoneMsg{applied: applied, err: err}
	})
}

// startVerify checks the finished migration.
func (s *rewriteStep) startVerify(m *Model) tea.Cmd {
	if m.svc.Verify == nil || m.be == nil {
		return nil
	}
	verify, be, p := m.svc.Verify, m.be, m.p
	return m.run("verifying the migration", func(ctx context.Context, _ func(tea.Msg)) tea.Msg {
		rows, err := verify(ctx, be, p)
		return verifyDoneMsg{rows: rows, err: err}
	})
}

// showVerify loads the verification outcome into the viewport: failed
// checks first, then the passed ones.
func (s *rewriteStep) showVerify(m *Model) {
	var bad, good []string
	for _, r := range s.verify {
		if r.OK {
			good = append(good, fmt.Sprintf("  ok      %-13s %s", r.Check, r.Subject))
			continue
		}
		bad = append(bad, m.st.Err.Render(fmt.Sprintf("  FAILED  %-13s %s: %s", r.Check, r.Subject, r.Detail)))
	}
	var lines []string
	for _, l := range append(bad, good...) {
		lines = append(lines, wrapIndent(l, m.width, 10)...)
	}
	s.vp.SetContentLines(lines)
	s.vp.GotoTop()
}

func (s *rewriteStep) bindings(m *Model) []key.Binding {
	switch {
	case s.changes == nil:
		return []key.Binding{m.keys.Retry, m.keys.Continue}
	case s.applied != nil:
		return []key.Binding{m.keys.Continue, m.keys.PageUp, m.keys.PageDown}
	case len(s.changes.Files) == 0:
		return []key.Binding{m.keys.Continue}
	}
	toggle := m.keys.Toggle
	toggle.SetHelp("space", "accept/skip")
	return []key.Binding{m.keys.Apply, toggle, m.keys.Move, m.keys.PageUp, m.keys.PageDown}
}

func (s *rewriteStep) view(m *Model) string {
	if s.changes == nil {
		return ""
	}
	files := s.changes.Files
	if len(files) == 0 {
		return "Nothing to rewrite: no code or config reads the migrated secrets.\nPress enter to continue."
	}
	var b strings.Builder
	if s.applied != nil {
		b.WriteString(m.st.OK.Render(fmt.Sprintf("✓ Applied %d of %d file(s).", len(s.applied), len(files))) + " Press enter for the checklists.\n\n")
		if s.verify == nil {
			b.WriteString("Verification did not run.\n")
			return b.String()
		}
		failed := 0
		for _, r := range s.verify {
			if !r.OK {
				failed++
			}
		}
		if failed == 0 {
			b.WriteString(m.st.OK.Render(fmt.Sprintf("✓ Verified: all %d check(s) passed: the backend holds every value, no file holds one, no code reads one from the environment.", len(s.verify))) + "\n")
		} else {
			b.WriteString(m.st.Err.Render(fmt.Sprintf("✗ Verification: %d of %d check(s) failed.", failed, len(s.verify))) + "\n")
		}
		b.WriteString(s.vp.View())
		return b.String()
	}
	accepted := 0
	for i := range files {
		if !s.skip[i] {
			accepted++
		}
	}
	fmt.Fprintf(&b, "%d file(s) to change · %d accepted. Values are redacted in every diff.\n", len(files), accepted)
	start := max(0, min(s.cursor-listHeight/2, len(files)-listHeight))
	for i := start; i < min(start+listHeight, len(files)); i++ {
		mark := "[x]"
		if s.skip[i] {
			mark = "[ ]"
		}
		cur := "  "
		if i == s.cursor {
			cur = "> "
		}
		line := cur + mark + " " + files[i].Key()
		if i == s.cursor {
			line = m.st.Key.Render(line)
		}
		b.WriteString(line + "\n")
	}
	for i := min(start+listHeight, len(files)) - start; i < listHeight; i++ {
		b.WriteString("\n")
	}
	b.WriteString(m.st.Rule.Render(fmt.Sprintf("── %s (%d%%) ", files[s.cursor].Key(), int(s.vp.ScrollPercent()*100))) + "\n")
	b.WriteString(s.vp.View())
	return b.String()
}
