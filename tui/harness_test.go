package tui

import (
	"context"
	"flag"
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

var update = flag.Bool("update", false, "update golden files")

// Fixed terminal size of the golden views.
const (
	goldenW = 100
	goldenH = 30
)

// harness drives a Model by calling Update and View directly, running the
// commands it returns the way the bubbletea runtime would, minus timers.
type harness struct {
	t *testing.T
	m *Model
	// views collects every rendered screen, for the canary check.
	views []string
}

func newHarness(t *testing.T, svc Services) *harness {
	t.Helper()
	m := New(context.Background(), Options{
		Services: svc,
		Settings: Settings{
			Roots:       []string{"/org"},
			TokenSource: func(string) string { return "Vault token: read from VAULT_TOKEN (set). The wizard never asks for it." },
		},
	})
	m.syncOps = true
	t.Cleanup(m.Wait)
	h := &harness{t: t, m: m}
	h.send(tea.WindowSizeMsg{Width: goldenW, Height: goldenH})
	h.exec(m.Init())
	return h
}

// send delivers msg and runs the resulting commands.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	h.exec(cmd)
	h.views = append(h.views, h.view())
}

// key presses a key by name ("enter", "space", "ctrl+c", "a", ...).
func (h *harness) key(names ...string) {
	h.t.Helper()
	for _, n := range names {
		h.send(keyPress(n))
	}
}

// typeText types s into the focused field.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyPress(name string) tea.KeyPressMsg {
	switch name {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(name)
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

var cmdType = reflect.TypeOf(tea.Cmd(nil))

// exec runs cmd and feeds its messages back into the model. Batches and
// sequences run in order. Timer commands (cursor blink, spinner ticks) are
// dropped: a command that has not returned within the settle time is a
// timer, as every wizard operation runs inline under syncOps.
func (h *harness) exec(cmd tea.Cmd) {
	h.t.Helper()
	if cmd == nil {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(300 * time.Millisecond):
		return
	}
	if msg == nil {
		return
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		for i := 0; i < v.Len(); i++ {
			c, _ := v.Index(i).Interface().(tea.Cmd)
			h.exec(c)
		}
		return
	}
	switch msg.(type) {
	case spinner.TickMsg, tea.QuitMsg:
		return
	}
	if strings.Contains(reflect.TypeOf(msg).String(), "link") { // cursor blink messages
		return
	}
	_, next := h.m.Update(msg)
	h.exec(next)
}

// view renders the screen without colour or escape sequences, trailing
// spaces trimmed.
func (h *harness) view() string {
	lines := strings.Split(ansi.Strip(h.m.render()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// golden compares the current view with testdata/<name>.golden.
func (h *harness) golden(name string) {
	h.t.Helper()
	got := h.view()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			h.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatalf("%v (run go test ./tui -update to create it)", err)
	}
	if got != string(want) {
		h.t.Errorf("view %s differs from its golden file (run go test ./tui -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// noCanary fails when any collected view holds a planted value.
func (h *harness) noCanary() {
	h.t.Helper()
	for _, v := range h.views {
		for _, c := range canaries {
			if strings.Contains(v, c) {
				h.t.Fatalf("a rendered view contains a planted secret value")
			}
		}
	}
}
