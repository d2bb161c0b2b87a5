package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
)

// step is one wizard screen.
type step int

const (
	stepRoots step = iota
	stepScan
	stepFindings
	stepBackend
	stepPlan
	stepDryRun
	stepPush
	stepRewrite
	stepExport
)

// stepInfo numbers the screens as the user sees them (7 steps).
var stepInfo = map[step]struct {
	n     int
	title string
}{
	stepRoots:    {1, "Choose folders to scan"},
	stepScan:     {1, "Scanning"},
	stepFindings: {2, "Review findings"},
	stepBackend:  {3, "Choose the backend"},
	stepPlan:     {4, "Review the plan"},
	stepDryRun:   {5, "Dry run against the backend"},
	stepPush:     {5, "Push and verify"},
	stepRewrite:  {6, "Review the rewrite"},
	stepExport:   {7, "Checklists and export"},
}

const totalSteps = 7

// Options configure a wizard Model.
type Options struct {
	Services Services
	Settings Settings
	// Color enables colour (false under NO_COLOR or without a terminal).
	Color bool
	// Inline runs each operation to completion inside Update instead of
	// in the background (the screen does not refresh meanwhile). For
	// tests and scripted runs (see tui/tuitest).
	Inline bool
}

// Model is the wizard's bubbletea model. Create it with New.
type Model struct {
	ctx    context.Context
	cancel context.CancelFunc
	// ops counts background operations still running, so the caller can
	// wait for them to stop after a cancel (see Wait).
	ops *sync.WaitGroup

	svc      Services
	settings Settings
	st       styles
	keys     keyMap
	help     help.Model
	spin     spinner.Model

	width, height int
	step          step
	busy          string // what a running operation is doing, "" when idle
	err           error  // the last failure, shown on the status line
	note          string // the last informational message
	quitting      bool
	ticking       bool // the spinner animates (only while busy)
	interrupted   bool // left with Ctrl+C
	// inline runs operations inside Update (Options.Inline).
	inline bool

	// The data flowing through the steps.
	result *discover.Result
	be     migrate.Backend
	p      *plan.Plan

	roots    rootsStep
	scan     scanStep
	findings findingsStep
	backend  backendStep
	plan     planStep
	dry      dryRunStep
	push     pushStep
	rewrite  rewriteStep
	export   exportStep
}

// New returns a wizard model. ctx bounds every operation it starts;
// cancelling it (or Ctrl+C) stops them.
func New(ctx context.Context, opts Options) *Model {
	ctx, cancel := context.WithCancel(ctx)
	st := newStyles(opts.Color)
	h := help.New()
	h.Styles = st.help()
	set := opts.Settings
	if len(set.Roots) == 0 {
		set.Roots = []string{"."}
	}
	if set.OutDir == "" {
		set.OutDir = "env2vault-out"
	}
	if set.Backend.Kind == "" {
		set.Backend.Kind = plan.BackendVault
	}
	m := &Model{
		ctx: ctx, cancel: cancel, ops: &sync.WaitGroup{},
		svc: opts.Services, settings: set, st: st, keys: newKeyMap(), help: h,
		spin:  spinner.New(spinner.WithSpinner(spinner.Line)),
		width: 100, height: 30, inline: opts.Inline,
	}
	m.roots.init(m)
	return m
}

// Wait blocks until every background operation has returned, then
// closes the backend connection if it holds one. Call it after the
// program exits: a cancelled push finishes its current write and its
// journal before returning, so a later run can resume.
func (m *Model) Wait() {
	m.ops.Wait()
	if c, ok := m.be.(io.Closer); ok {
		_ = c.Close()
	}
}

// Interrupted reports whether the user left with Ctrl+C (rather than
// finishing on the last step), and the step they were on.
func (m *Model) Interrupted() (bool, string) {
	info := stepInfo[m.step]
	return m.interrupted, fmt.Sprintf("step %d of %d (%s)", info.n, totalSteps, strings.ToLower(info.title))
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	return m.roots.form.Init()
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.resize()
		// Forms size themselves from this message too.
		return m, m.updateStep(msg)
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.keys.Quit):
			m.quitting, m.interrupted = true, true
			m.cancel()
			return m, tea.Quit
		case key.Matches(msg, m.keys.Help) && !m.typing():
			m.help.ShowAll = !m.help.ShowAll
			m.resize() // the full help takes rows from the screen
			return m, nil
		}
	case spinner.TickMsg:
		if m.busy == "" { // idle: stop animating until the next operation
			m.ticking = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case progressMsg:
		// A running operation reported progress: record it and keep listening.
		m.updateStep(msg.payload)
		if msg.ch == nil {
			return m, nil
		}
		return m, listen(msg.ch)
	}
	return m, m.updateStep(msg)
}

// updateStep hands msg to the current screen.
func (m *Model) updateStep(msg tea.Msg) tea.Cmd {
	if s := m.current(); s != nil {
		return s.update(m, msg)
	}
	return nil
}

// screen is what every step's screen does: handle a message, draw its
// body.
type screen interface {
	update(m *Model, msg tea.Msg) tea.Cmd
	view(m *Model) string
}

// current returns the current step's screen (nil for an unknown step).
func (m *Model) current() screen {
	switch m.step {
	case stepRoots:
		return &m.roots
	case stepScan:
		return &m.scan
	case stepFindings:
		return &m.findings
	case stepBackend:
		return &m.backend
	case stepPlan:
		return &m.plan
	case stepDryRun:
		return &m.dry
	case stepPush:
		return &m.push
	case stepRewrite:
		return &m.rewrite
	case stepExport:
		return &m.export
	}
	return nil
}

// typing reports whether a text field has the keyboard, so that
// printable keys go to it rather than to shortcuts.
func (m *Model) typing() bool {
	switch m.step {
	case stepRoots:
		return true
	case stepBackend:
		return m.backend.editing()
	case stepExport:
		return m.export.form != nil
	}
	return false
}

// resize lays every screen out for the current terminal size.
func (m *Model) resize() {
	m.findings.resize(m)
	m.plan.resize(m)
	m.dry.resize(m)
	m.push.resize(m)
	m.rewrite.resize(m)
	m.export.resize(m)
}

// bodyHeight is the height left for a screen's content.
func (m *Model) bodyHeight() int {
	// title, rule, blank ... blank, status, help
	h := m.height - 6
	if m.help.ShowAll {
		h -= 4
	}
	return max(h, 3)
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	if m.quitting {
		return tea.NewView("")
	}
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "env2vault"
	return v
}

// render draws the whole screen as a string (tests use it directly).
func (m *Model) render() string {
	info := stepInfo[m.step]
	var b strings.Builder
	head := m.st.Title.Render("env2vault") + "  " + m.st.Step.Render(fmt.Sprintf("step %d of %d", info.n, totalSteps)) + "  " + m.st.Title.Render(info.title)
	b.WriteString(head + "\n")
	b.WriteString(m.st.Rule.Render(strings.Repeat("─", max(m.width, 10))) + "\n")

	var body string
	if s := m.current(); s != nil {
		body = s.view(m)
	}
	body = clipLines(ansi.Wrap(body, m.width, ""), m.bodyHeight())
	b.WriteString(body)
	pad := m.bodyHeight() - lipgloss.Height(body)
	b.WriteString(strings.Repeat("\n", max(pad, 0)+1))
	b.WriteString("\n" + m.statusLine() + "\n")
	// help truncates its short form only when an ellipsis fits: cut the rest.
	helpLines := strings.Split(m.help.View(m.bindings()), "\n")
	for i, l := range helpLines {
		helpLines[i] = ansi.Truncate(l, m.width, "…")
	}
	b.WriteString(strings.Join(helpLines, "\n"))
	return b.String()
}

// statusLine shows what is running, the last error or the last note.
func (m *Model) statusLine() string {
	switch {
	case m.busy != "":
		return m.spin.View() + " " + m.busy
	case m.err != nil:
		return m.st.Err.Render(ansi.Wrap("✗ "+m.err.Error(), m.width, ""))
	case m.note != "":
		return m.st.OK.Render(m.note)
	}
	return ""
}

// bindings returns the current screen's key help.
func (m *Model) bindings() helpKeys {
	var k []key.Binding
	switch m.step {
	case stepRoots:
		k = m.roots.form.KeyBinds()
	case stepScan:
	case stepFindings:
		k = []key.Binding{m.keys.Continue, m.keys.Toggle, m.keys.Ignore, m.keys.Switch, m.keys.Move}
	case stepBackend:
		k = m.backend.bindings(m)
	case stepPlan:
		k = []key.Binding{m.keys.Continue, m.keys.Move}
	case stepDryRun:
		k = m.dry.bindings(m)
	case stepPush:
		k = m.push.bindings(m)
	case stepRewrite:
		k = m.rewrite.bindings(m)
	case stepExport:
		k = m.export.bindings(m)
	}
	helpKey := m.keys.Help
	if m.help.ShowAll {
		helpKey.SetHelp("?", "fewer keys")
	}
	k = append(k, helpKey, m.keys.Quit)
	return helpKeys{short: k, full: chunk(k, 4)}
}

// chunk splits bindings into help columns of n.
func chunk(k []key.Binding, n int) [][]key.Binding {
	var out [][]key.Binding
	for len(k) > n {
		out = append(out, k[:n])
		k = k[n:]
	}
	return append(out, k)
}

// clipLines keeps at most n lines of s.
func clipLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// goTo switches screens, clearing the status line.
func (m *Model) goTo(s step) {
	m.step = s
	m.err, m.note = nil, ""
	m.resize()
}

// fail shows err on the status line and ends any busy state.
func (m *Model) fail(err error) {
	m.busy = ""
	m.err = err
}

// progressMsg carries a progress payload from a running operation.
type progressMsg struct {
	ch      chan tea.Msg
	payload tea.Msg
}

// listen waits for the next message of a running operation.
func listen(ch chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

// run starts fn in the background under the wizard's context. fn reports
// progress through report (dropped when the screen lags behind) and
// returns its final message, delivered to Update. busy is shown on the
// status line meanwhile.
func (m *Model) run(busy string, fn func(ctx context.Context, report func(tea.Msg)) tea.Msg) tea.Cmd {
	m.busy, m.err, m.note = busy, nil, ""
	if m.inline {
		var msgs []tea.Cmd
		final := fn(m.ctx, func(p tea.Msg) {
			msgs = append(msgs, func() tea.Msg { return progressMsg{payload: p} })
		})
		return tea.Sequence(append(msgs, func() tea.Msg { return final })...)
	}
	var tick tea.Cmd
	if !m.ticking {
		m.ticking, tick = true, m.spin.Tick
	}
	ch := make(chan tea.Msg, 64)
	ctx := m.ctx
	m.ops.Add(1)
	go func() {
		defer m.ops.Done()
		report := func(p tea.Msg) {
			select {
			case ch <- progressMsg{ch: ch, payload: p}:
			default:
			}
		}
		final := fn(ctx, report)
		select {
		case ch <- final:
		case <-ctx.Done():
		}
	}()
	return tea.Batch(listen(ch), tick)
}

// errMissing is returned when a service is not wired.
func errMissing(what string) error {
	return fmt.Errorf("%s is not available in this build", what)
}

// wrapIndent word-wraps s to width, indenting continuation lines.
func wrapIndent(s string, width, indent int) []string {
	if width <= indent+10 {
		return []string{s}
	}
	first, rest, _ := strings.Cut(ansi.Wrap(s, width, ""), "\n")
	out := []string{first}
	if rest != "" {
		pad := strings.Repeat(" ", indent)
		rest = strings.Join(strings.Fields(strings.ReplaceAll(rest, "\n", " ")), " ")
		for _, l := range strings.Split(ansi.Wrap(rest, width-indent, ""), "\n") {
			out = append(out, pad+l)
		}
	}
	return out
}
