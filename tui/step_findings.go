package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"

	"github.com/env2vault/env2vault/discover"
)

// findingsStep reviews the scan, one table per repo.
type findingsStep struct {
	repos []repoFindings
	tab   int
	table table.Model
	// excluded and ignored are indexes into Result.Findings.
	excluded map[int]bool
	ignored  map[int]bool
	reads    int
}

// repoFindings are one repo's reviewable findings (indexes into
// Result.Findings) and what its history exposes.
type repoFindings struct {
	name      string
	idx       []int
	committed []string
}

// load groups the scan's findings by repo. Env-read findings are counted,
// not listed: they are what rewrite changes, not what gets migrated.
func (s *findingsStep) load(m *Model) {
	*s = findingsStep{excluded: map[int]bool{}, ignored: map[int]bool{}}
	res := m.result
	if res == nil {
		return
	}
	byRepo := map[string]*repoFindings{}
	for _, r := range res.Repos {
		key := repoKey(r.Root, r.Name)
		byRepo[key] = &repoFindings{name: displayRepo(r.Name, r.Root), committed: r.CommittedEnvFiles}
	}
	for i, f := range res.Findings {
		if f.Kind == discover.KindEnvRead {
			s.reads++
			continue
		}
		key := repoKey(f.Root, f.Repo)
		rf, ok := byRepo[key]
		if !ok {
			rf = &repoFindings{name: displayRepo(f.Repo, f.Root)}
			byRepo[key] = rf
		}
		rf.idx = append(rf.idx, i)
	}
	for _, rf := range byRepo {
		s.repos = append(s.repos, *rf)
	}
	sort.Slice(s.repos, func(i, j int) bool { return s.repos[i].name < s.repos[j].name })
	s.table = table.New(table.WithFocused(true), table.WithStyles(m.st.table()))
	s.resize(m)
}

func repoKey(root, name string) string { return root + "\x00" + name }

func displayRepo(name, root string) string {
	if name == "" || name == "." {
		return root
	}
	return name
}

func (s *findingsStep) resize(m *Model) {
	if len(s.repos) == 0 {
		return
	}
	w := m.width
	s.table.SetColumns(layoutColumns(w, []colSpec{
		{title: "", min: 4, pref: 4, keep: 9},
		{title: "Kind", min: 9, pref: 9, keep: 5},
		{title: "File:line", min: 12, pref: 28, keep: 8},
		{title: "Key", min: 14, pref: 30, keep: 7},
		{title: "Service", min: 8, pref: 10, keep: 4},
		{title: "Class", min: 6, pref: 11, keep: 6},
		{title: "Reason", min: 10, keep: 2},
		{title: "History", min: 10, pref: 10, keep: 3},
	}))
	s.table.SetWidth(w)
	s.table.SetHeight(max(m.bodyHeight()-6, 3))
	s.refresh(m)
}

// refresh rebuilds the current tab's rows, keeping the cursor.
func (s *findingsStep) refresh(m *Model) {
	if len(s.repos) == 0 {
		return
	}
	cur := s.table.Cursor()
	var rows []table.Row
	for n, i := range s.repos[s.tab].idx {
		f := m.result.Findings[i]
		cursor := " "
		if n == cur {
			cursor = ">"
		}
		rows = append(rows, table.Row{
			cursor + s.mark(i, f),
			string(f.Kind),
			fmt.Sprintf("%s:%d", f.Path, f.Line),
			keyOrHint(f),
			dash(f.Service),
			dash(string(f.Classification)),
			dash(f.Reason),
			exposure(f),
		})
	}
	s.table.SetRows(rows)
	s.table.SetCursor(min(cur, max(len(rows)-1, 0)))
}

// mark shows whether a finding goes into the plan.
func (s *findingsStep) mark(i int, f discover.Finding) string {
	switch {
	case s.ignored[i]:
		return "FP"
	case !f.IsSecret():
		return " - "
	case s.excluded[i]:
		return "[ ]"
	}
	return "[x]"
}

// keyOrHint names a finding by its key, else by its provider hint.
func keyOrHint(f discover.Finding) string {
	hint := discover.SafeHint(f.Hint)
	switch {
	case f.Key != "" && hint != "":
		return f.Key + " (" + hint + ")"
	case f.Key != "":
		return f.Key
	case hint != "":
		return hint
	}
	return dash(f.Rule)
}

// exposure says how far a value has travelled beyond the working tree.
func exposure(f discover.Finding) string {
	switch {
	case f.InHistory && f.Tracked:
		return "committed"
	case f.InHistory:
		return "in history"
	case f.Tracked:
		return "tracked"
	}
	return "local only"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ignoreDoneMsg reports a false positive written to an ignore file.
type ignoreDoneMsg struct {
	idx  int
	file string
	err  error
}

func (s *findingsStep) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case ignoreDoneMsg:
		m.busy = ""
		if msg.err != nil {
			m.fail(fmt.Errorf("could not record the false positive: %w", msg.err))
			return nil
		}
		s.ignored[msg.idx] = true
		m.note = "recorded as a false positive in " + msg.file
		s.refresh(m)
		return nil
	case tea.KeyPressMsg:
		if m.busy != "" {
			return nil
		}
		switch {
		case key.Matches(msg, m.keys.Continue):
			return m.startBackend()
		case len(s.repos) == 0:
			return nil
		case key.Matches(msg, m.keys.NextTab):
			s.tab = (s.tab + 1) % len(s.repos)
			s.table.SetCursor(0)
			s.refresh(m)
			return nil
		case key.Matches(msg, m.keys.PrevTab):
			s.tab = (s.tab + len(s.repos) - 1) % len(s.repos)
			s.table.SetCursor(0)
			s.refresh(m)
			return nil
		case key.Matches(msg, m.keys.Toggle):
			i, ok := s.selected()
			if !ok {
				return nil
			}
			f := m.result.Findings[i]
			if !f.IsSecret() || s.ignored[i] {
				m.err, m.note = nil, "only secrets can be included or excluded"
				return nil
			}
			s.excluded[i] = !s.excluded[i]
			m.err, m.note = nil, ""
			s.refresh(m)
			return nil
		case key.Matches(msg, m.keys.Ignore):
			i, ok := s.selected()
			if !ok || s.ignored[i] {
				return nil
			}
			if m.svc.Ignore == nil {
				m.fail(errMissing("recording false positives"))
				return nil
			}
			f, ignore := m.result.Findings[i], m.svc.Ignore
			return m.run("recording a false positive", func(ctx context.Context, _ func(tea.Msg)) tea.Msg {
				file, err := ignore(ctx, f)
				return ignoreDoneMsg{idx: i, file: file, err: err}
			})
		}
	}
	var cmd tea.Cmd
	s.table, cmd = s.table.Update(msg)
	if _, ok := msg.(tea.KeyPressMsg); ok {
		s.refresh(m)
	}
	return cmd
}

// selected returns the finding index under the cursor.
func (s *findingsStep) selected() (int, bool) {
	if len(s.repos) == 0 {
		return 0, false
	}
	idx := s.repos[s.tab].idx
	c := s.table.Cursor()
	if c < 0 || c >= len(idx) {
		return 0, false
	}
	return idx[c], true
}

// reviewed returns the scan result with excluded and false-positive
// findings removed: what the plan is built from.
func (s *findingsStep) reviewed(res *discover.Result) *discover.Result {
	out := *res
	out.Findings = make([]discover.Finding, 0, len(res.Findings))
	for i, f := range res.Findings {
		if !s.excluded[i] && !s.ignored[i] {
			out.Findings = append(out.Findings, f)
		}
	}
	return &out
}

func (s *findingsStep) view(m *Model) string {
	res := m.result
	if res == nil {
		return ""
	}
	var b strings.Builder
	secrets, included := 0, 0
	for i, f := range res.Findings {
		if f.IsSecret() {
			secrets++
			if !s.excluded[i] && !s.ignored[i] {
				included++
			}
		}
	}
	fmt.Fprintf(&b, "%d repos · %d files · %d secrets (%d included) · %d env reads\n",
		res.Stats.Repos, res.Stats.FilesScanned, secrets, included, s.reads)
	if len(s.repos) == 0 {
		b.WriteString("\nNothing to review: no secrets or .env entries were found.\nPress enter to continue.\n")
		return b.String()
	}
	var tabs []string
	for i, r := range s.repos {
		label := fmt.Sprintf(" %s (%d) ", r.name, len(r.idx))
		if i == s.tab {
			label = m.st.Title.Render("[" + strings.TrimSpace(label) + "]")
		} else {
			label = m.st.Muted.Render(label)
		}
		tabs = append(tabs, label)
	}
	b.WriteString(strings.Join(tabs, " ") + "\n")
	if c := s.repos[s.tab].committed; len(c) > 0 {
		b.WriteString(m.st.Warn.Render("History: "+strings.Join(c, ", ")+" committed at some point: rotate what they held.") + "\n")
	} else {
		b.WriteString("\n")
	}
	b.WriteString(s.table.View() + "\n")
	if i, ok := s.selected(); ok {
		f := res.Findings[i]
		detail := fmt.Sprintf("%s:%d · %s · rule %s", f.Path, f.Line, dash(f.Reason), dash(f.Rule))
		if f.Context != "" {
			detail += " · context " + string(f.Context)
		}
		if hint := discover.SafeHint(f.Hint); hint != "" {
			detail += " · value " + hint + " (masked)"
		} else {
			detail += " · value masked"
		}
		b.WriteString(m.st.Muted.Render(detail))
	}
	return b.String()
}
