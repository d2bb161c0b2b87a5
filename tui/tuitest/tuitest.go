// Package tuitest drives a bubbletea model in tests without a terminal:
// it calls Update and View directly at a fixed size, runs the commands the
// model returns the way the bubbletea runtime would (batches and
// sequences in order), drops timers (cursor blink, spinner ticks), and
// compares screens with golden files.
//
// Models that start background work must run it inline for the driver to
// see its result (tui.Options.Inline): a command that has not returned
// within Settle is treated as a timer and dropped.
package tuitest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// Settle is how long a command may take before it counts as a timer.
var Settle = 200 * time.Millisecond

// Driver drives one model.
type Driver struct {
	tb    testing.TB
	model tea.Model
	// Views holds every screen rendered so far (plain text), for canary
	// checks.
	Views []string
}

// New starts m at width x height: it sends the window size and runs Init.
func New(tb testing.TB, m tea.Model, width, height int) *Driver {
	tb.Helper()
	d := &Driver{tb: tb, model: m}
	d.Send(tea.WindowSizeMsg{Width: width, Height: height})
	d.exec(m.Init())
	return d
}

// Model returns the current model.
func (d *Driver) Model() tea.Model { return d.model }

// Send delivers msg, runs the resulting commands and records the screen.
func (d *Driver) Send(msg tea.Msg) {
	d.tb.Helper()
	var cmd tea.Cmd
	d.model, cmd = d.model.Update(msg)
	d.exec(cmd)
	d.Views = append(d.Views, d.View())
}

// Key presses keys by name: "enter", "space", "tab", "up", "down",
// "left", "right", "backspace", "esc", "ctrl+<letter>", or a printable
// character.
func (d *Driver) Key(names ...string) {
	d.tb.Helper()
	for _, n := range names {
		d.Send(KeyPress(n))
	}
}

// Type types s, one key per character.
func (d *Driver) Type(s string) {
	d.tb.Helper()
	for _, r := range s {
		d.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// KeyPress returns the key press message for a key name (see Key).
func KeyPress(name string) tea.KeyPressMsg {
	switch name {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	if c, ok := strings.CutPrefix(name, "ctrl+"); ok && len(c) == 1 {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModCtrl}
	}
	r := []rune(name)
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

var cmdType = reflect.TypeOf(tea.Cmd(nil))

// exec runs cmd and feeds its messages back into the model.
func (d *Driver) exec(cmd tea.Cmd) {
	d.tb.Helper()
	if cmd == nil {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(Settle):
		return // a timer
	}
	if msg == nil {
		return
	}
	// A batch runs concurrently: start every command at once and wait
	// for each up to one shared deadline, then handle them in order.
	if batch, ok := msg.(tea.BatchMsg); ok {
		deadline := time.After(Settle)
		results := make([]chan tea.Msg, len(batch))
		for i, c := range batch {
			results[i] = make(chan tea.Msg, 1)
			if c == nil {
				results[i] <- nil
				continue
			}
			go func() { results[i] <- c() }()
		}
		var msgs []tea.Msg
		expired := false
		for _, r := range results {
			if !expired {
				select {
				case m := <-r:
					msgs = append(msgs, m)
					continue
				case <-deadline:
					expired = true
				}
			}
			select { // past the deadline: take only what is done (not timers)
			case m := <-r:
				msgs = append(msgs, m)
			default:
			}
		}
		for _, m := range msgs {
			d.handle(m)
		}
		return
	}
	d.handle(msg)
}

// handle feeds one message (or a sequence of commands) to the model.
func (d *Driver) handle(msg tea.Msg) {
	d.tb.Helper()
	if msg == nil {
		return
	}
	// bubbletea's sequence message is a []tea.Cmd run in order.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		for i := 0; i < v.Len(); i++ {
			c, _ := v.Index(i).Interface().(tea.Cmd)
			d.exec(c)
		}
		return
	}
	switch msg.(type) {
	case spinner.TickMsg, tea.QuitMsg:
		return
	}
	if strings.Contains(strings.ToLower(reflect.TypeOf(msg).String()), "blink") {
		return // cursor blinking
	}
	var next tea.Cmd
	d.model, next = d.model.Update(msg)
	d.exec(next)
}

// View renders the screen as plain text: no colour or escape sequences,
// trailing spaces trimmed.
func (d *Driver) View() string {
	lines := strings.Split(ansi.Strip(d.model.View().Content), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// Golden compares the current screen with testdata/<name>.golden, or
// writes it when update is true.
func (d *Driver) Golden(name string, update bool) {
	d.tb.Helper()
	got := d.View()
	path := filepath.Join("testdata", name+".golden")
	if update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			d.tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			d.tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		d.tb.Fatalf("%v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		d.tb.Errorf("screen %s differs from its golden file (check, then rerun with -update):\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// Contains reports whether any recorded screen contains any of values;
// it returns the first found, for canary checks (report the fact, never
// the value).
func (d *Driver) Contains(values []string) bool {
	for _, v := range d.Views {
		for _, c := range values {
			if c != "" && strings.Contains(v, c) {
				return true
			}
		}
	}
	return false
}
